import fc from "fast-check";

/**
 * The building blocks of hostile input: odd strings, odd timestamps, wrong types, huge values and
 * deep nesting. Everything here is plain data, so a case can be printed, replayed and shrunk.
 */

/** A JSON token written as is (JSON.stringify cannot write -0, 1e400 or 2^53+1 exactly). */
export class RawJson {
  constructor(readonly text: string) {}
  toJSON() {
    return `<raw ${this.text.length > 60 ? `${this.text.slice(0, 60)}… (${this.text.length} chars)` : this.text}>`;
  }
}

/** JSON text of a value that may hold RawJson leaves. */
export function jsonText(value: unknown): string {
  const raws: string[] = [];
  const marker = "\u0001raw\u0001";
  const text = JSON.stringify(value, function (this: unknown, key: string) {
    const original = (this as Record<string, unknown>)[key];
    if (original instanceof RawJson) {
      raws.push(original.text);
      return `${marker}${raws.length - 1}${marker}`;
    }
    return original;
  });
  if (text === undefined) return "";
  if (raws.length === 0) return text;
  // JSON.stringify escapes U+0001 as \u0001, which no other string can produce in its output.
  return text.replace(/"\\u0001raw\\u0001(\d+)\\u0001raw\\u0001"/g, (_, i: string) => raws[Number(i)]!);
}

/** Strings that have broken parsers, databases and terminals before. */
export const ODD_STRINGS = [
  "\u0000",
  "a\u0000b",
  "\ud800",
  "\udfff",
  "x\udc00y",
  "\ud83d",
  "\udbff\udbff",
  "\u202eevil\u202c",
  "\u200f\u05e9\u05dc\u05d5\u05dd",
  "مرحبا بالعالم",
  "👩‍👩‍👧‍👦",
  "🏳️‍🌈",
  "😀",
  "e\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308",
  "Z̴̡̢̛̗̘̙̜̝̞̟̠ͅ",
  "\ufeff",
  "\u2028\u2029",
  "\uffff",
  "\ufffe",
  "\u{10ffff}",
  "𝕳𝖊𝖑𝖑𝖔",
  " ",
  "",
  "\t\n\r",
  "\\",
  '"',
  "'; drop table emails; --",
  "%00",
  "%",
  "null",
  "undefined",
  "true",
  "-0",
  "NaN",
  "Infinity",
  "1e309",
  "__proto__",
  "constructor",
  "<script>alert(1)</script>",
  "${x}",
  "ﷺ",
  "\u0085",
  "\u00a0",
  "\u0007",
  "\u001b[31m",
  "ÅÄÖ",
  "İı",
  "ß",
  "\u0130",
  "😀\u0000😀",
] as const;

export const oddUnicode = fc.constantFrom(...ODD_STRINGS);

/** Short strings: arbitrary code points (lone surrogates included), graphemes, and known troublemakers. */
export const oddString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: oddUnicode, weight: 4 },
  { arbitrary: fc.array(oddUnicode, { minLength: 2, maxLength: 6 }).map((a) => a.join("")), weight: 2 },
  { arbitrary: fc.string({ unit: "binary", maxLength: 24 }), weight: 3 },
  { arbitrary: fc.string({ unit: "grapheme", maxLength: 24 }), weight: 2 },
  { arbitrary: fc.string({ maxLength: 24 }), weight: 1 },
);

/**
 * Long strings around the limits: subject 998 and body 100,000 characters, the 120 KiB queue
 * message budget, the 256 KiB API and 512 KiB webhook body limits. Multi-byte units make the
 * character count and the byte count disagree.
 */
export const hugeString: fc.Arbitrary<string> = fc
  .record({
    unit: fc.constantFrom("a", "é", "€", "😀", "\u0000", "\ud800", "e\u0301"),
    count: fc.constantFrom(997, 998, 999, 2000, 2001, 31_000, 40_000, 99_999, 100_000, 100_001, 140_000, 300_000),
  })
  .map(({ unit, count }) => unit.repeat(count));

/** Deep nesting, written as raw JSON so building it costs nothing on our side. */
export const deepNesting: fc.Arbitrary<RawJson> = fc
  .record({ depth: fc.constantFrom(10, 100, 1_000, 10_000, 60_000), array: fc.boolean() })
  .map(
    ({ depth, array }) =>
      new RawJson(
        array ? `${"[".repeat(depth)}1${"]".repeat(depth)}` : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`,
      ),
  );

export const oddNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    0,
    -1,
    1.5,
    2 ** 31,
    -(2 ** 31) - 1,
    2 ** 53,
    2 ** 53 - 1,
    -(2 ** 53),
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    1e21,
    101,
    new RawJson("-0"),
    new RawJson("1e400"),
    new RawJson("-1e400"),
    new RawJson("9007199254740993"),
    new RawJson("1.0"),
    new RawJson("1E2"),
    new RawJson("123456789012345678901234567890"),
    new RawJson("0.1e1"),
    "5",
    "NaN",
    "-0",
    "Infinity",
    "0x10",
    "1e3",
  ),
  fc.integer(),
  fc.double(),
);

/** Anything but the type a field wants. */
export const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  {
    arbitrary: fc.constantFrom<unknown>(
      null,
      true,
      false,
      [],
      {},
      [null],
      { $ref: "#" },
      new RawJson('{"__proto__":{"admin":true}}'),
    ),
    weight: 3,
  },
  { arbitrary: oddNumber, weight: 3 },
  { arbitrary: oddString, weight: 3 },
  { arbitrary: fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }), weight: 1 },
  { arbitrary: fc.object({ maxDepth: 1, maxKeys: 3 }), weight: 1 },
  { arbitrary: deepNesting, weight: 1 },
);

const pad = (n: number, width: number) =>
  n < 0 ? `-${String(-n).padStart(width, "0")}` : String(n).padStart(width, "0");

/** Timestamps built field by field, each field allowed just past its range. */
const builtTimestamp: fc.Arbitrary<string> = fc
  .record({
    year: fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.constantFrom(0, 1, 1969, 1970, 2038, 9999, 10_000, -1)),
    month: fc.integer({ min: 0, max: 13 }),
    day: fc.integer({ min: 0, max: 32 }),
    hour: fc.integer({ min: 0, max: 25 }),
    minute: fc.integer({ min: 0, max: 60 }),
    second: fc.option(fc.integer({ min: 0, max: 61 }), { nil: undefined }),
    fraction: fc.option(fc.stringMatching(/^\d{1,12}$/), { nil: undefined }),
    separator: fc.constantFrom("T", " ", "t"),
    zone: fc.oneof(
      fc.constantFrom(
        "Z",
        "z",
        "",
        "+00",
        "-00:00",
        "+0000",
        "-01:00",
        "+14:00",
        "-12:00",
        "+23:59",
        "+24:00",
        "+99:99",
      ),
      fc
        .record({
          sign: fc.constantFrom("+", "-"),
          h: fc.integer({ min: 0, max: 25 }),
          m: fc.integer({ min: 0, max: 60 }),
          colon: fc.boolean(),
        })
        .map(({ sign, h, m, colon }) => `${sign}${pad(h, 2)}${colon ? ":" : ""}${pad(m, 2)}`),
    ),
  })
  .map(({ year, month, day, hour, minute, second, fraction, separator, zone }) => {
    const time = `${pad(hour, 2)}:${pad(minute, 2)}${second === undefined ? "" : `:${pad(second, 2)}${fraction === undefined ? "" : `.${fraction}`}`}`;
    return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}${separator}${time}${zone}`;
  });

export const ODD_TIMESTAMPS = [
  "0000-01-01T00:00:00Z",
  "0001-01-01T00:00:00Z",
  "10000-01-01T00:00:00Z",
  "+010000-01-01T00:00:00.000Z",
  "-000001-01-01T00:00:00Z",
  "9999-12-31T23:59-01:00",
  "9999-12-31T23:59:59.999-00:01",
  "9999-12-31T23:59:59.999Z",
  "2025-02-30T00:00:00Z",
  "2025-02-29T00:00:00Z",
  "2024-02-29T12:00:00+14:00",
  "2016-12-31T23:59:60Z",
  "2025-01-01T24:00:00Z",
  "2025-01-01T23:60:00Z",
  "2025-13-01T00:00:00Z",
  "2025-00-10T00:00:00Z",
  "2025-01-00T00:00:00Z",
  "2025-01-01T00:00:00",
  "2025-01-01",
  "2025-01-01T00:00Z",
  "2025-01-01 00:00:00+00",
  "2025-01-01t00:00:00z",
  "2025-01-01T00:00:00.123456789012Z",
  "2025-01-01T00:00:00+25:00",
  "2025-01-01T00:00:00-2359",
  "1970-01-01T00:00:00Z",
  "1969-12-31T23:59:59.999Z",
  "Infinity",
  "infinity",
  "-infinity",
  "epoch",
  "now",
  "today",
  "",
  " 2025-01-01T00:00:00Z",
  "2025-01-01T00:00:00Z ",
  "2025-01-01T00:00:00Z\n",
  "2025-01-01T00:00:00Z\u0000",
  "٢٠٢٥-٠١-٠١T00:00:00Z",
  "2025-01-01T00:00:00+01:00:00",
  "2025-W01-1T00:00:00Z",
  "2025-001T00:00:00Z",
] as const;

export const oddTimestamp: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.constantFrom<string>(...ODD_TIMESTAMPS), weight: 4 },
  { arbitrary: builtTimestamp, weight: 4 },
  { arbitrary: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), weight: 1 },
  {
    arbitrary: fc.oneof(
      fc.integer(),
      fc.constantFrom<unknown>(1_735_689_600_000, 1_735_689_600, null, true, new RawJson("1e400")),
    ),
    weight: 1,
  },
);

/** A valid timestamp with an offset, as the schemas want. */
export const goodTimestamp: fc.Arbitrary<string> = fc
  .record({
    ms: fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2030, 0, 1) }),
    offsetMinutes: fc.constantFrom(0, 60, -300, 330, 840, -720),
  })
  .map(({ ms, offsetMinutes }) => {
    if (offsetMinutes === 0) return new Date(ms).toISOString();
    const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 23);
    const sign = offsetMinutes < 0 ? "-" : "+";
    const abs = Math.abs(offsetMinutes);
    return `${local}${sign}${pad(Math.floor(abs / 60), 2)}:${pad(abs % 60, 2)}`;
  });

/** Object keys nobody expects. */
export const oddKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "__proto__",
    "constructor",
    "prototype",
    "extra",
    "ID",
    "Version",
    "",
    " ",
    "a.b",
    "$where",
    "row",
    "record",
    "\u0000",
    "😀",
  ),
  fc.string({ unit: "binary", maxLength: 12 }),
);
