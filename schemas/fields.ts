import { z } from "zod";

/** Lower-case canonical UUID (any version). Ids must be globally unique, never auto-increment. */
export const uuid = () =>
  z
    .string()
    .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, "must be a UUID")
    .transform((s) => s.toLowerCase());

// An explicit offset is required: a timestamp without one is ambiguous, and the seeds' timezone
// bugs come from exactly that. Postgres renders timestamptz as "2025-12-13 10:30:00.12+00" or
// "2025-12-13T10:30:00.12+00:00"; both are accepted.
const WITH_OFFSET = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$/i;

/**
 * A point in time, normalised to UTC ISO 8601 with millisecond precision and a `Z`
 * (`2025-12-13T10:30:00.000Z`). Both stores keep millisecond precision (Postgres columns are
 * `timestamptz(3)`), so the normalisation is lossless and both replicas hold identical strings.
 */
export const utcTimestamp = () =>
  z
    .string()
    .regex(WITH_OFFSET, "must be an ISO 8601 timestamp with a UTC offset")
    .transform((s, ctx) => {
      const normalised = s.replace(" ", "T").replace(/([+-]\d{2})$/, "$1:00");
      const ms = Date.parse(normalised);
      if (Number.isNaN(ms)) {
        ctx.addIssue({ code: "custom", message: "is not a valid date" });
        return z.NEVER;
      }
      return new Date(ms).toISOString();
    });

/** Row version: bumped by the authoritative store on every write, strictly increasing per row. */
export const version = () => z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** Every column must be present in a row image (state transfer): nullable, never optional. */
export const nullableText = () => z.string().nullable();
