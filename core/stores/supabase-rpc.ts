/**
 * The one door to Supabase. Every piece of Supabase-side logic is a SQL function created by
 * migrations/supabase, so the worker only ever calls functions; the two transports below run the
 * very same SQL and are interchangeable.
 */
export interface SupabaseRpc {
  call<T>(fn: SupabaseFunction, args: Record<string, unknown>): Promise<T>;
}

/** The functions the worker may call, with the Postgres type of each named argument. */
export const SUPABASE_FUNCTIONS = {
  sync_apply_batch: { p_events: "jsonb" },
  sync_changes_after: { p_txid: "text", p_seq: "bigint", p_limit: "integer" },
  sync_prune: { p_keep: "interval", p_cursor_txid: "text", p_cursor_seq: "bigint" },
  sync_hubspot_prune_logs: { p_before: "timestamptz" },
  sync_hubspot_errors_resolve: { p_session_id: "uuid" },
  sync_read_page: { p_entity: "text", p_after: "uuid", p_until: "uuid", p_limit: "integer" },
  sync_repair_batch: { p_entity: "text", p_repairs: "jsonb" },
  sync_status: { p_cursor_txid: "text", p_cursor_seq: "bigint" },
  sync_integrity: {},
  sync_row_versions: { p_entity: "text", p_ids: "jsonb" },
  sync_read_rows: { p_entity: "text", p_ids: "jsonb" },
  sync_restamp: { p_entity: "text", p_rows: "jsonb" },
  sync_ping: {},
  // HubSpot sync (migration 0010; core/hubspot/)
  sync_hubspot_session_create: { p_session: "jsonb" },
  sync_hubspot_session_get: { p_id: "uuid" },
  sync_hubspot_session_advance: { p_id: "uuid", p_status: "text", p_progress: "jsonb" },
  sync_hubspot_connection_save: { p: "jsonb" },
  sync_hubspot_connection_get: { p_id: "uuid" },
  sync_hubspot_connection_move: { p_id: "uuid", p_status: "text", p_error: "text" },
  sync_hubspot_connections_sealed_under_other: { p_key_id: "text", p_after: "uuid", p_limit: "integer" },
  sync_hubspot_connection_reseal: { p_id: "uuid", p: "jsonb" },
  // HubSpot fetch side (migration 0013; src/wiring/hubspot.ts, src/services/hubspot-sync.ts)
  sync_hubspot_connection_current: {},
  sync_hubspot_connection_latest: {},
  sync_hubspot_session_active: { p_connection_id: "uuid" },
  sync_hubspot_high_water_mark: { p_connection_id: "uuid" },
  sync_hubspot_sessions_list: { p_limit: "integer", p_before: "timestamptz" },
  sync_hubspot_contacts_list: { p: "jsonb" },
  // migration 0014
  sync_hubspot_session_lease: { p_id: "uuid", p_holder: "text", p_seconds: "integer" },
  sync_hubspot_session_release: { p_id: "uuid", p_holder: "text" },
  // Connect and the console (migration 0015; core/hubspot/connections.ts listConnections)
  sync_hubspot_connections_list: {},
  sync_hubspot_audit_write: { p: "jsonb" },
  // A connection change and its audit line in one transaction (migration 0017)
  sync_hubspot_connection_save_audited: { p: "jsonb", p_audit: "jsonb" },
  sync_hubspot_connection_move_audited: { p_id: "uuid", p_status: "text", p_error: "text", p_audit: "jsonb" },
  // Progress events and the session's logs (migration 0016; core/hubspot/sync-events.ts, session-log.ts)
  sync_hubspot_log_write: { p: "jsonb" },
  sync_hubspot_session_advance_logged: { p_id: "uuid", p_status: "text", p_progress: "jsonb", p_log: "jsonb" },
  sync_hubspot_events_after: { p_after: "bigint", p_limit: "integer" },
  sync_hubspot_events_head: {},
  sync_hubspot_session_lines: { p_table: "text", p_session_id: "uuid", p_after: "bigint", p_limit: "integer" },
} as const satisfies Record<string, Record<string, string>>;

export type SupabaseFunction = keyof typeof SUPABASE_FUNCTIONS;
