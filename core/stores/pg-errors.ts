import type { ErrorCode } from "../error-codes";
import { PermanentStoreError, SyncError, TransientError } from "../errors";

// SQLSTATE classes that describe the server's condition, not our data: connection exceptions,
// invalid authorization and unknown database (misconfiguration: messages must wait for the fix,
// not burn into the DLQ), transaction rollbacks (serialization failure, deadlock), insufficient
// resources, operator intervention (admin shutdown, cannot connect now), system and internal errors.
const TRANSIENT_CLASSES = new Set(["08", "28", "3D", "40", "53", "54", "55", "57", "58", "XX"]);
const NETWORK_CODES = /^(ECONN|ETIMEDOUT|EPIPE|EAI_|ENOTFOUND|EHOSTUNREACH|CONNECT_TIMEOUT|CONNECTION_|UND_ERR)/;

/**
 * Turns a failure of a Supabase call (postgres driver or PostgREST) into retry / dead-letter.
 * PostgREST passes the SQLSTATE through as `code`; its own PGRST0xx codes mean it could not reach
 * the database, and HTTP 5xx/429 or a failed fetch are outages too.
 */
export function classifyPgError(error: unknown): SyncError {
  if (error instanceof SyncError) return error;
  const e = (error ?? {}) as { code?: unknown; message?: unknown; status?: unknown };
  const code = typeof e.code === "string" ? e.code : "";
  const message = typeof e.message === "string" ? e.message : String(error);
  const status = typeof e.status === "number" ? e.status : 0;
  if (/^[0-9A-Z]{5}$/.test(code) && !code.startsWith("PGRST")) {
    if (TRANSIENT_CLASSES.has(code.slice(0, 2)))
      return new TransientError("SUPABASE_UNAVAILABLE", `Postgres ${code}: ${message}`, error);
    return new PermanentStoreError(pgCodeName(code), `Postgres ${code}: ${message}`, error);
  }
  if (code.startsWith("PGRST0") || status >= 500 || status === 429 || NETWORK_CODES.test(code) || status === 0) {
    return new TransientError("SUPABASE_UNAVAILABLE", `Supabase unreachable: ${message}`, error);
  }
  return new PermanentStoreError("SUPABASE_REJECTED", `Supabase rejected the call: ${message}`, error);
}

function pgCodeName(code: string): ErrorCode {
  switch (code) {
    case "23503":
      return "FOREIGN_KEY_VIOLATION";
    case "23505":
      return "UNIQUE_VIOLATION";
    case "23514":
      return "CHECK_VIOLATION";
    case "23502":
      return "NOT_NULL_VIOLATION";
    case "P0001":
      return "RAISED_BY_TRIGGER";
    default:
      return code.startsWith("22") ? "DATA_EXCEPTION" : "SUPABASE_REJECTED";
  }
}
