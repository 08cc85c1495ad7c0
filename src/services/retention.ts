import { readCursor } from "../../producers/change-log-sweep";
import type { SupabaseRpc } from "../../core/stores/supabase-rpc";
import { redactSettledPayloadsStatement } from "../../core/ledger/payload-retention";
import { SETTINGS } from "../../core/settings";

/**
 * How long change-log entries, published outbox rows and replica tombstones are kept. Must exceed
 * queue retention (Cloudflare Queues: at most 14 days): a tombstone pruned while an older event
 * for its row could still be delivered would let that event resurrect the row.
 */
export const RETENTION_DAYS = 15;

/** Default for FAILED_TASK_PAYLOAD_RETENTION_DAYS: days a settled task keeps its row image. */
export const DEFAULT_PAYLOAD_RETENTION_DAYS = SETTINGS.FAILED_TASK_PAYLOAD_RETENTION_DAYS.default;
const DEFAULT_HUBSPOT_LOG_RETENTION_DAYS = SETTINGS.HUBSPOT_LOG_RETENTION_DAYS.default;

/**
 * Hourly: prunes both stores. The change log is only pruned behind the sweep's cursor. Failed
 * tasks, their history and the audit trail are kept, but a task resolved or superseded more than
 * `payloadRetentionDays` ago loses its row image (names, addresses, bodies: PII that is no longer
 * needed, as a settled task cannot be replayed). Its event keeps the envelope (id, entity, op, key,
 * version, times, source, trace) with `row: null`, so the task and its history still say what
 * happened to which row (core/ledger/payload-retention.ts). The HubSpot sync's log and error lines
 * older than `hubspotLogRetentionDays` go too (its sessions stay).
 */
export async function pruneExpired(
  deps: { db: D1Database; rpc: SupabaseRpc; payloadRetentionDays?: number; hubspotLogRetentionDays?: number },
  now = Date.now(),
) {
  const daysAgo = (days: number) => new Date(now - days * 86_400_000).toISOString();
  const before = daysAgo(RETENTION_DAYS);
  const settledBefore = daysAgo(deps.payloadRetentionDays ?? DEFAULT_PAYLOAD_RETENTION_DAYS);
  const [tombstones, outbox, planItems, payloads] = await deps.db.batch([
    deps.db.prepare("DELETE FROM sync_tombstones WHERE deleted_at < ?1").bind(before),
    deps.db.prepare("DELETE FROM sync_outbox WHERE published_at IS NOT NULL AND published_at < ?1").bind(before),
    // The frozen selections of plans that expired unexecuted (the plan row and its audit stay).
    deps.db
      .prepare(
        "DELETE FROM replay_plan_items WHERE plan_id IN (SELECT id FROM replay_plans WHERE job_id IS NULL AND expires_at < ?1)",
      )
      .bind(new Date(now).toISOString()),
    redactSettledPayloadsStatement(deps.db, settledBefore, new Date(now).toISOString()),
  ]);
  const cursor = await readCursor(deps.db); // (0, 0) before the first sweep: nothing is behind it
  const [supabase, hubspotLogs] = await Promise.all([
    deps.rpc.call<{ change_log: number; tombstones: number }>("sync_prune", {
      p_keep: `${RETENTION_DAYS} days`,
      p_cursor_txid: cursor.txid,
      p_cursor_seq: cursor.seq,
    }),
    deps.rpc.call<{ sync_logs: number; error_logs: number }>("sync_hubspot_prune_logs", {
      p_before: daysAgo(deps.hubspotLogRetentionDays ?? DEFAULT_HUBSPOT_LOG_RETENTION_DAYS),
    }),
  ]);
  return {
    d1: {
      tombstones: tombstones!.meta.changes,
      outbox: outbox!.meta.changes,
      replayPlanItems: planItems!.meta.changes,
      redactedTaskPayloads: payloads!.meta.changes,
    },
    supabase: { ...supabase, hubspotLogs },
  };
}
