/**
 * Seed 002's sync events ("WebSocket events"), recorded in public.hubspot_sync_events by triggers
 * on sync_sessions and hubspot_connections (migration supabase/0016) and streamed by
 * GET /v1/hubspot/events. The table's check lists the same names.
 */
export const SYNC_EVENT_NAMES = [
  "sync:start",
  "sync:progress",
  "sync:complete",
  "sync:error",
  "connection:status",
] as const;
export type SyncEventName = (typeof SYNC_EVENT_NAMES)[number];

/** A recorded event; `seq` is the stream's cursor (the SSE id). */
export interface RecordedSyncEvent {
  seq: number;
  event: SyncEventName;
  session_id: string | null;
  connection_id: string | null;
  data: Record<string, unknown>;
  at: string;
}

/** Seed 002's error categories (public.error_logs' check). */
export const ERROR_TYPES = [
  "auth",
  "rate_limit",
  "network",
  "hubspot_api",
  "validation",
  "storage",
  "internal",
] as const;
export type ErrorType = (typeof ERROR_TYPES)[number];

/** A sync_logs line's status (the table's check). */
export type SyncLogStatus = "success" | "warning" | "error";
