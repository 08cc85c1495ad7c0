import { PermanentStoreError, SyncError, TransientError } from "../errors";

// D1 (and workerd's local D1) reports a failure as an Error whose only content is its message
// ("D1_ERROR: UNIQUE constraint failed: emails.id: SQLITE_CONSTRAINT"): no `code`, no SQLite result
// code, no constraint name as a property. So D1 errors, unlike Postgres errors (classified by
// SQLSTATE in pg-errors.ts), can only be classified by their message, and only in this file.
// Constraint, type and schema errors are about the data or the code and fail the same way on retry;
// anything else (network lost, overloaded, object reset, timeouts) is worth retrying.
const PERMANENT =
  /constraint failed|CHECK constraint|datatype mismatch|SQLITE_CONSTRAINT|SQLITE_MISMATCH|SQLITE_TOOBIG|too big|no such (table|column)|syntax error/i;

/**
 * What our D1 triggers raise with `RAISE(ABORT, 'CODE…')` (migrations/d1/): the message is the only
 * way the code comes back.
 */
const TRIGGER_CODES = ["INVALID_TRANSITION", "VERSION_NOT_BUMPED", "INVALID_TIMESTAMP"] as const;
export type D1TriggerCode = (typeof TRIGGER_CODES)[number];

const messageOf = (error: unknown) => String((error as Error)?.message ?? error);

export function classifyD1Error(error: unknown): SyncError {
  if (error instanceof SyncError) return error;
  const message = messageOf(error);
  if (PERMANENT.test(message) || d1TriggerCode(error))
    return new PermanentStoreError("D1_REJECTED", `D1 rejected the write: ${message}`, error);
  return new TransientError("D1_UNAVAILABLE", `D1 call failed: ${message}`, error);
}

/** The columns ("table.column") of the UNIQUE constraint a D1 write broke; null when it broke none. */
export function d1UniqueViolation(error: unknown): string[] | null {
  const match = /UNIQUE constraint failed: ([\w.]+(?:, [\w.]+)*)/.exec(messageOf(error));
  return match ? match[1]!.split(", ") : null;
}

/** The code one of our D1 triggers refused the write with; null when no trigger did. */
export function d1TriggerCode(error: unknown): D1TriggerCode | null {
  const message = messageOf(error);
  return TRIGGER_CODES.find((code) => new RegExp(`\\b${code}\\b`).test(message)) ?? null;
}
