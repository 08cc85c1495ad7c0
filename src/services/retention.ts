import { readCursor } from "../../producers/change-log-sweep";
import type { SupabaseRpc } from "../stores/supabase-rpc";

/**
 * How long change-log entries, published outbox rows and replica tombstones are kept. Must exceed
 * queue retention (Cloudflare Queues: at most 14 days): a tombstone pruned while an older event
 * for its row could still be delivered would let that event resurrect the row.
 */
export const RETENTION_DAYS = 15;

/** Hourly: prunes both stores. The change log is only pruned behind the sweep's cursor. Failed tasks, their history and the audit trail are kept. */
export async function pruneExpired(deps: { db: D1Database; rpc: SupabaseRpc }, now = Date.now()) {
  const before = new Date(now - RETENTION_DAYS * 86_400_000).toISOString();
  const [tombstones, outbox, planItems] = await deps.db.batch([
    deps.db.prepare("DELETE FROM sync_tombstones WHERE deleted_at < ?1").bind(before),
    deps.db.prepare("DELETE FROM sync_outbox WHERE published_at IS NOT NULL AND published_at < ?1").bind(before),
    // The frozen selections of plans that expired unexecuted (the plan row and its audit stay).
    deps.db
      .prepare("DELETE FROM replay_plan_items WHERE plan_id IN (SELECT id FROM replay_plans WHERE job_id IS NULL AND expires_at < ?1)")
      .bind(new Date(now).toISOString()),
  ]);
  const cursor = await readCursor(deps.db); // (0, 0) before the first sweep: nothing is behind it
  const supabase = await deps.rpc.call<{ change_log: number; tombstones: number }>("sync_prune", {
    p_keep: `${RETENTION_DAYS} days`,
    p_cursor_txid: cursor.txid,
    p_cursor_seq: cursor.seq,
  });
  return { d1: { tombstones: tombstones!.meta.changes, outbox: outbox!.meta.changes, replayPlanItems: planItems!.meta.changes }, supabase };
}
