import { PermanentStoreError, SyncError, TransientError } from "../errors";

// D1 reports failures as messages ("D1_ERROR: UNIQUE constraint failed: …"). Constraint, type and
// schema errors are about the data or the code and fail the same way on retry; anything else
// (network lost, overloaded, object reset, timeouts) is worth retrying.
const PERMANENT = /constraint failed|CHECK constraint|datatype mismatch|SQLITE_CONSTRAINT|SQLITE_MISMATCH|SQLITE_TOOBIG|too big|no such (table|column)|syntax error|INVALID_TRANSITION|VERSION_NOT_BUMPED/i;

export function classifyD1Error(error: unknown): SyncError {
  if (error instanceof SyncError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (PERMANENT.test(message)) return new PermanentStoreError("D1_REJECTED", `D1 rejected the write: ${message}`, error);
  return new TransientError("D1_UNAVAILABLE", `D1 call failed: ${message}`, error);
}
