import { z } from "zod";

/** Lower-case canonical UUID (any version). Ids must be globally unique, never auto-increment. */
export const uuid = () =>
  z
    .string()
    .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, "must be a UUID")
    .transform((s) => s.toLowerCase());

/**
 * The one range of instants both stores accept, after the offset is applied. Postgres takes years
 * from 4713 BC to 294276 AD but refuses year 0 (there is none), and its `infinity` means nothing to
 * D1; D1 holds timestamps as `YYYY-MM-DDTHH:MM:SS.sssZ` text, which sorts correctly only with four-digit
 * years, and JavaScript renders years past 9999 as `+010000-…`, which our own schema then refuses.
 * Migration supabase/0009 limits the Postgres columns to the same range.
 */
export const MIN_INSTANT = "0001-01-01T00:00:00.000Z";
export const MAX_INSTANT = "9999-12-31T23:59:59.999Z";
const MIN_MS = Date.parse(MIN_INSTANT);
const MAX_MS = Date.parse(MAX_INSTANT);

// An explicit zone is required: a timestamp without one is ambiguous, and the seeds' timezone bugs
// come from exactly that. `Z` or `±hh:mm`; also `±hh`, `±hhmm` and a space for the `T`, because
// that is how Postgres renders timestamptz as text ("2025-12-13 10:30:00.12+00"), and rows read
// from Postgres pass through this same rule. No `infinity`, no expanded (5+ digit) years.
const ISO_WITH_ZONE =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:(Z)|([+-])(\d{2})(?::?(\d{2}))?)$/i;

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Parses a timestamp by the rule above into epoch milliseconds, or says what is wrong with it.
 * Every field is checked before any arithmetic: `Date.parse` silently rolls 2025-02-30 over to
 * 2025-03-02 and hands year 0 and year 10000 through, which is how such values got stored before.
 */
export function parseInstant(s: string): { ms: number } | { problem: string } {
  const m = ISO_WITH_ZONE.exec(s);
  if (!m) return { problem: "must be an ISO 8601 timestamp with a zone (Z or ±hh:mm), e.g. 2025-03-01T09:00:00Z" };
  const [, ys, mos, ds, hs, mis, ss, frac, zulu, sign, ohs, oms] = m;
  const year = Number(ys),
    month = Number(mos),
    day = Number(ds);
  const hour = Number(hs),
    minute = Number(mis),
    second = Number(ss ?? 0);
  if (year < 1) return { problem: "year 0000 does not exist (the year before 0001 is 1 BC)" };
  if (month < 1 || month > 12) return { problem: `month ${mos} does not exist` };
  const days = month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
  if (day < 1 || day > days) return { problem: `${ys}-${mos} has no day ${ds}` };
  if (hour > 23 || minute > 59 || second > 59) return { problem: `${hs}:${mis}:${ss ?? "00"} is not a time of day` };
  const offsetHours = zulu ? 0 : Number(ohs),
    offsetMinutes = zulu ? 0 : Number(oms ?? 0);
  // Postgres refuses offsets past ±15:59 ("time zone displacement out of range").
  if (offsetHours > 15 || offsetMinutes > 59)
    return { problem: `offset ${sign}${ohs}:${oms ?? "00"} is out of range (at most ±15:59)` };
  // Milliseconds are truncated: both stores keep millisecond precision (timestamptz(3)).
  const millis = Number((frac ?? "").padEnd(3, "0").slice(0, 3));
  const local = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  local.setUTCFullYear(year, month - 1, day);
  local.setUTCHours(hour, minute, second, millis);
  const offsetMs = (sign === "-" ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  const ms = local.getTime() - offsetMs;
  if (ms < MIN_MS || ms > MAX_MS)
    return { problem: `is outside ${MIN_INSTANT} … ${MAX_INSTANT} once converted to UTC` };
  return { ms };
}

/**
 * A point in time, normalised to UTC ISO 8601 with millisecond precision and a `Z`
 * (`2025-12-13T10:30:00.000Z`), within the range both stores accept. Both stores keep millisecond
 * precision (Postgres columns are `timestamptz(3)`), so the normalisation is lossless and both
 * replicas hold identical strings. Used by every entity's row schema, the email API, webhook rows
 * and the operator API.
 */
export const utcTimestamp = () =>
  z.string().transform((s, ctx) => {
    const parsed = parseInstant(s);
    if ("problem" in parsed) {
      ctx.addIssue({ code: "custom", message: parsed.problem });
      return z.NEVER;
    }
    return new Date(parsed.ms).toISOString();
  });

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Text as both stores can carry it: no NUL (U+0000). Postgres text cannot hold it at all and its
 * jsonb refuses `\u0000`, so a row with one would be stored in D1 and then fail on every
 * replication to Postgres (and vice versa could never originate there). No lone UTF-16 surrogate
 * either: it has no UTF-8 encoding, so D1 stored invalid bytes while Postgres stored U+FFFD, and
 * the two stores held different text for the same version.
 */
export const text = () =>
  z
    .string()
    .regex(/^[^\u0000]*$/, "must not contain the NUL character (\\u0000)")
    .refine(
      (s) => !LONE_SURROGATE.test(s),
      "must be well-formed Unicode (a lone UTF-16 surrogate has no UTF-8 encoding)",
    );

/** Row version: bumped by the authoritative store on every write, strictly increasing per row. */
export const version = () => z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** Every column must be present in a row image (state transfer): nullable, never optional. */
export const nullableText = () => text().nullable();
