import type { SupabaseRpc } from "../stores/supabase-rpc";
import type { RecordedSyncEvent } from "../../schemas/hubspot/sync-event";

/** The recorded events after `after` (a seq), oldest first, at most `limit` (≤ 500). */
export async function eventsAfter(rpc: SupabaseRpc, after: number, limit: number): Promise<RecordedSyncEvent[]> {
  const rows = await rpc.call<RecordedSyncEvent[]>("sync_hubspot_events_after", { p_after: after, p_limit: limit });
  // bigint travels as a JSON number from jsonb; a seq beyond 2^53 is not a concern for this table.
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}

/** The newest event's seq (0 when none). */
export async function eventsHead(rpc: SupabaseRpc): Promise<number> {
  return Number(await rpc.call<number | string>("sync_hubspot_events_head", {}));
}
