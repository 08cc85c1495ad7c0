import fc from "fast-check";
import type { z } from "zod";
import { goodTimestamp, hugeString, oddString, oddTimestamp, oddValue, RawJson } from "./odd-values";

/**
 * Field arbitraries derived from the registry's zod schemas, so a new column or entity is fuzzed
 * without touching this suite. The kind of a string field is found by asking the schema itself
 * (does it take a UUID? a timestamp? an email address?), not by reading zod internals, which
 * only tell the wrappers (optional, nullable, default) apart.
 */
export type FieldKind = "uuid" | "timestamp" | "email" | "text" | "enum" | "int" | "bool" | "unknown";

export interface FieldSpec {
  name: string;
  kind: FieldKind;
  nullable: boolean;
  optional: boolean;
  options: string[];
  min: number;
  max: number;
  minLength: number;
}

type AnyZod = z.ZodType & { _zod: { def: { type: string; innerType?: AnyZod; entries?: Record<string, string> } } };

const ok = (schema: z.ZodType, value: unknown) => schema.safeParse(value).success;

export function fieldSpec(name: string, schema: z.ZodType): FieldSpec {
  let base = schema as AnyZod;
  let nullable = false;
  let optional = false;
  for (;;) {
    const { type, innerType } = base._zod.def;
    if (type === "nullable") nullable = true;
    else if (type === "optional" || type === "default") optional = true;
    else break;
    base = innerType!;
  }
  const spec: FieldSpec = { name, kind: "unknown", nullable, optional, options: [], min: 0, max: 0, minLength: 0 };
  const { type, entries } = base._zod.def;
  if (type === "enum") return { ...spec, kind: "enum", options: Object.values(entries ?? {}) };
  if (type === "boolean") return { ...spec, kind: "bool" };
  if (type === "number") {
    const min = !ok(base, 0) ? 1 : !ok(base, -1) ? 0 : -1_000_000;
    const max = !ok(base, 101) ? 100 : 1_000_000;
    return { ...spec, kind: "int", min, max };
  }
  if (ok(base, "x") || ok(base, "")) return { ...spec, kind: "text", minLength: ok(base, "") ? 0 : 1 };
  if (ok(base, "0b6f7a51-2a3c-4b5d-8e9f-0a1b2c3d4e5f")) return { ...spec, kind: "uuid" };
  if (ok(base, "2025-03-01T09:00:00Z")) return { ...spec, kind: "timestamp" };
  if (ok(base, "gm@bellevue.test")) return { ...spec, kind: "email" };
  return spec;
}

export function fieldSpecs(shape: Record<string, z.ZodType>): FieldSpec[] {
  return Object.entries(shape).map(([name, schema]) => fieldSpec(name, schema));
}

/** A value the field accepts. */
export function validValue(spec: FieldSpec): fc.Arbitrary<unknown> {
  const base = ((): fc.Arbitrary<unknown> => {
    switch (spec.kind) {
      case "uuid":
        return fc.uuid();
      case "timestamp":
        return goodTimestamp;
      case "email":
        return fc.emailAddress();
      case "enum":
        return fc.constantFrom(...spec.options);
      case "int":
        return fc.integer({ min: spec.min, max: spec.max });
      case "bool":
        return fc.boolean();
      case "text":
        return fc.string({ minLength: Math.max(spec.minLength, 1), maxLength: 30 });
      case "unknown":
        return fc.constant(null);
    }
  })();
  if (spec.nullable) return fc.option(base, { nil: null, freq: 4 });
  return base;
}

/** A value the field may well refuse: wrong type, odd content of the right type, out of range. */
export function oddValueFor(spec: FieldSpec): fc.Arbitrary<unknown> {
  const specific = ((): fc.Arbitrary<unknown> => {
    switch (spec.kind) {
      case "uuid":
        return fc.oneof(
          fc.uuid().map((u) => u.toUpperCase()),
          fc.constantFrom(
            "00000000-0000-0000-0000-000000000000",
            "not-a-uuid",
            "0b6f7a51-2a3c-4b5d-8e9f-0a1b2c3d4e5f\n",
            "{0b6f7a51-2a3c-4b5d-8e9f-0a1b2c3d4e5f}",
            "0b6f7a512a3c4b5d8e9f0a1b2c3d4e5f",
            "0b6f7a51-2a3c-4b5d-8e9f-0a1b2c3d4e5\u0000",
          ),
          oddString,
        );
      case "timestamp":
        return oddTimestamp;
      case "email":
        return fc.oneof(
          fc.constantFrom("a@b", "@", "a@", "a b@c.d", "a@b@c", "ä@ö.ü", "x@y\u0000", "\u202e@x.y"),
          oddString.map((s) => `${s}@x.test`),
        );
      case "enum":
        return fc.oneof(
          fc.constantFrom(...spec.options).map((o) => o.toUpperCase()),
          fc.constantFrom(...spec.options).map((o) => `${o} `),
          fc.constantFrom(...spec.options).map((o) => `${o}\u0000`),
          oddString,
        );
      case "int":
        return fc.oneof(
          fc.constantFrom<unknown>(
            spec.min - 1,
            spec.max + 1,
            2 ** 53,
            2 ** 53 - 1,
            2 ** 31,
            -(2 ** 31) - 1,
            0.5,
            "1",
            new RawJson("-0"),
            new RawJson("1e400"),
            new RawJson("9007199254740993"),
          ),
          fc.integer(),
        );
      case "bool":
        return fc.constantFrom<unknown>("true", "false", 1, 0, "1", null, "yes");
      case "text":
        return fc.oneof({ arbitrary: oddString, weight: 8 }, { arbitrary: hugeString, weight: 1 });
      case "unknown":
        return oddValue;
    }
  })();
  return fc.oneof({ arbitrary: specific, weight: 3 }, { arbitrary: oddValue, weight: 1 });
}

/** A valid object for `specs`: every required field, optional ones sometimes. */
export function validObject(specs: FieldSpec[]): fc.Arbitrary<Record<string, unknown>> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const s of specs) model[s.name] = s.optional ? fc.option(validValue(s), { nil: undefined }) : validValue(s);
  return fc.record(model).map((o) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
    return out;
  });
}

export type Mutation =
  | { kind: "set"; field: string; value: unknown }
  | { kind: "delete"; field: string }
  | { kind: "unknown-field"; field: string; value: unknown };

/** Up to `max` mutations of an object with fields `specs` (none at all about a quarter of the time). */
export function mutations(specs: FieldSpec[], oddKey: fc.Arbitrary<string>, max = 3): fc.Arbitrary<Mutation[]> {
  const one: fc.Arbitrary<Mutation> = fc.oneof(
    {
      arbitrary: fc
        .constantFrom(...specs)
        .chain((s) => oddValueFor(s).map((value): Mutation => ({ kind: "set", field: s.name, value }))),
      weight: 6,
    },
    { arbitrary: fc.constantFrom(...specs).map((s): Mutation => ({ kind: "delete", field: s.name })), weight: 1 },
    {
      arbitrary: fc.record({ field: oddKey, value: oddValue }).map((m): Mutation => ({ kind: "unknown-field", ...m })),
      weight: 1,
    },
  );
  return fc.oneof(
    { arbitrary: fc.constant<Mutation[]>([]), weight: 1 },
    { arbitrary: fc.array(one, { minLength: 1, maxLength: max }), weight: 3 },
  );
}

export function applyMutations(base: Record<string, unknown>, list: Mutation[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const m of list) {
    if (m.kind === "delete") delete out[m.field];
    // defineProperty: "__proto__" must become an own key, as JSON.parse would make it.
    else Object.defineProperty(out, m.field, { value: m.value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
