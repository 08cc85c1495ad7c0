import { describe } from "../errors";
import type { ErrorType } from "../../schemas/hubspot/sync-event";

const AUTH = new Set([
  "HUBSPOT_AUTH_FAILED",
  "HUBSPOT_NOT_CONNECTED",
  "TOKEN_KEYS_INVALID",
  "TOKEN_KEY_UNKNOWN",
  "TOKEN_DECRYPT_FAILED",
]);
const STORAGE = new Set([
  "SUPABASE_UNAVAILABLE",
  "SUPABASE_REJECTED",
  "D1_UNAVAILABLE",
  "D1_REJECTED",
  "QUEUE_UNAVAILABLE",
  "CIRCUIT_OPEN",
  "FOREIGN_KEY_VIOLATION",
  "UNIQUE_VIOLATION",
  "CHECK_VIOLATION",
  "NOT_NULL_VIOLATION",
  "RAISED_BY_TRIGGER",
  "DATA_EXCEPTION",
]);
const VALIDATION = new Set([
  "SCHEMA_VIOLATION",
  "INVALID_EVENT",
  "INVALID_PAYLOAD",
  "EVENT_TOO_LARGE",
  "IMPOSSIBLE_STATE",
  "INVALID_REQUEST",
]);

/**
 * Seed 002's error category of one of our errors (public.error_logs.error_type). HUBSPOT_UNAVAILABLE
 * covers a 429, a 5xx and a network failure alike (the retry policy is the same for all three), so
 * its message, which the client writes as "… answered 429 …", tells rate limiting apart.
 */
export function errorCategory(error: unknown): ErrorType {
  const { code, message } = describe(error);
  if (AUTH.has(code)) return "auth";
  if (code === "HUBSPOT_UNAVAILABLE") return / answered 429\b/.test(message) ? "rate_limit" : "network";
  if (code === "HUBSPOT_REJECTED") return "hubspot_api";
  if (STORAGE.has(code)) return "storage";
  if (VALIDATION.has(code)) return "validation";
  return "internal";
}
