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

/**
 * An event in words, as the console shows it (and the stream carries as `summary`, so the browser
 * needs no second copy of these sentences).
 */
export function summarise(e: Pick<RecordedSyncEvent, "event" | "data">): string {
  const d = e.data as Record<string, string | number | null | undefined>;
  const counts = `${d.records_count ?? 0} contacts, ${d.archived_count ?? 0} archived, ${d.error_count ?? 0} refused`;
  switch (e.event) {
    case "sync:start":
      return `${d.type ?? "A"} sync ${d.session ?? ""} started`;
    case "sync:progress":
      return `${d.session ?? "Sync"}: ${counts} so far`;
    case "sync:complete":
      return `${d.session ?? "Sync"} completed: ${counts}${typeof d.duration_ms === "number" ? ` in ${(d.duration_ms / 1000).toFixed(1)} s` : ""}`;
    case "sync:error":
      return `${d.session ?? "Sync"} failed: ${d.error ?? "no reason recorded"} (${counts})`;
    case "connection:status":
      return `Portal ${d.portal_id}: ${d.from ?? "new"} → ${d.to}${d.error ? ` (${d.error})` : ""}`;
  }
}

/** The newest events, newest first (at most `limit`): the console's feed before its stream starts. */
export async function recentEvents(
  rpc: SupabaseRpc,
  limit: number,
): Promise<{ head: number; items: RecordedSyncEvent[] }> {
  const head = await eventsHead(rpc);
  // seq has gaps (ended sessions keep one progress event), so this may give fewer than `limit`.
  const items = await eventsAfter(rpc, Math.max(0, head - limit), limit);
  return { head, items: items.reverse() };
}
