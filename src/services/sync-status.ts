import { CHANGE_LOG_CURSOR } from "../../producers/change-log-sweep";
import { storesHolding } from "../../schemas/define-entity";
import { ENTITIES } from "../../schemas/registry";
import type { CircuitBreaker } from "../../core/circuit-breaker";
import type { SupabaseRpc } from "../../core/stores/supabase-rpc";
import { UNSETTLED } from "../../core/ledger/task-status";

/** Thresholds behind the healthy flag; beyond them an operator should look. */
export const STATUS_LIMITS = { sweepStaleSeconds: 300, backlogStaleSeconds: 300 } as const;

interface SupabaseStatus {
  rows: Record<string, number>;
  change_log_backlog: Record<string, number>;
  oldest_unswept_at: string | null;
  horizon: string;
  now: string;
}

/**
 * Everything an operator needs at a glance, per entity and for the pipeline: row counts on both
 * sides, last event applied and lag, backlogs, open failed tasks, last reconciliation and
 * integrity results, and a healthy flag with the reasons when it is false.
 */
export async function syncStatus(deps: {
  db: D1Database;
  rpc: SupabaseRpc;
  breakers: Record<string, CircuitBreaker>;
  queues?: Queue[];
}) {
  const now = Date.now();
  const db = deps.db;
  const cursor = await db
    .prepare("SELECT txid, seq, last_run_at FROM sync_cursors WHERE name = ?1")
    .bind(CHANGE_LOG_CURSOR)
    .first<{ txid: string; seq: number; last_run_at: string }>();
  const [supabase, d1] = await Promise.all([
    deps.rpc
      .call<SupabaseStatus>("sync_status", { p_cursor_txid: cursor?.txid ?? "0", p_cursor_seq: cursor?.seq ?? 0 })
      .catch((e: Error) => e),
    db.batch([
      db.prepare("SELECT * FROM sync_entity_state"),
      // Tasks needing attention; a group an operator ignored ("known, harmless") does not count.
      db.prepare(
        `SELECT t.entity, count(*) AS n FROM failed_tasks t LEFT JOIN failure_groups g ON g.id = t.group_id
          WHERE t.status IN ${UNSETTLED} AND coalesce(g.status, 'open') <> 'ignored' GROUP BY t.entity`,
      ),
      db.prepare("SELECT count(*) AS n, min(created_at) AS oldest FROM sync_outbox WHERE published_at IS NULL"),
      db.prepare(
        `SELECT r.* FROM sync_reconcile_runs r WHERE r.id = (SELECT max(id) FROM sync_reconcile_runs x WHERE x.entity = r.entity)`,
      ),
      db.prepare("SELECT id, finished_at, issues, findings FROM sync_integrity_runs ORDER BY id DESC LIMIT 1"),
      db.prepare(
        `SELECT (SELECT count(*) FROM failure_groups WHERE status = 'open') AS open_groups,
                (SELECT group_concat(id) FROM replay_jobs WHERE status = 'running') AS running_jobs`,
      ),
      // Entities D1 holds no table of (HubSpot contacts) count null there.
      ...ENTITIES.map((e) =>
        db.prepare(storesHolding(e).includes("d1") ? `SELECT count(*) AS n FROM "${e.table}"` : "SELECT NULL AS n"),
      ),
    ]),
  ]);
  const [stateRows, failedRows, outboxRows, reconcileRows, integrityRows, replayRows, ...counts] = d1;
  const byEntity = <T extends { entity: string }>(r: D1Result) => new Map((r.results as T[]).map((x) => [x.entity, x]));
  const states = byEntity<{
    entity: string;
    last_event_id: string | null;
    last_event_at: string | null;
    last_applied_at: string | null;
    applied_total: number;
    stale_total: number;
    failed_total: number;
  }>(stateRows!);
  const failed = byEntity<{ entity: string; n: number }>(failedRows!);
  const reconciles = byEntity<{
    entity: string;
    status: string;
    finished_at: string;
    missing: number;
    extra: number;
    altered: number;
    repaired: number;
    skipped: number;
    repair: number;
    regressed?: number;
    invalid?: number;
  }>(reconcileRows!);
  const outbox = outboxRows!.results[0] as { n: number; oldest: string | null };
  const sb = supabase instanceof Error ? null : supabase;
  const ageSeconds = (iso: string | null | undefined) =>
    iso ? Math.max(0, Math.round((now - Date.parse(iso)) / 1000)) : null;

  const entities = ENTITIES.map((e, i) => {
    const reasons: string[] = [];
    const held = storesHolding(e);
    const d1Count = (counts[i]!.results[0] as { n: number | null }).n;
    const d1Rows = d1Count === null ? null : Number(d1Count);
    const supabaseRows = sb?.rows[e.table] ?? null;
    const state = states.get(e.name);
    const open = failed.get(e.name)?.n ?? 0;
    const reconcile = reconciles.get(e.name);
    const unswept = sb ? (sb.change_log_backlog[e.table] ?? 0) : null;
    // Our capture backlog: Supabase's change log or D1's outbox. An outside authority (HubSpot)
    // has none of ours: its fetcher's sync sessions say how far it got.
    const backlog =
      e.authority === "supabase"
        ? { changeLog: unswept }
        : e.authority === "d1"
          ? { outboxUnpublished: outbox.n }
          : { external: e.authority };
    const backlogEmpty = e.authority === "supabase" ? unswept === 0 : e.authority === "d1" ? outbox.n === 0 : false;
    if (open) reasons.push(`${open} open failed task(s)`);
    if (held.length === 2 && supabaseRows !== null && d1Rows !== null && supabaseRows !== d1Rows && backlogEmpty) {
      reasons.push(`row counts differ with nothing in the backlog: supabase ${supabaseRows}, d1 ${d1Rows}`);
    }
    if (
      reconcile &&
      reconcile.missing + reconcile.extra + reconcile.altered > (reconcile.repair ? reconcile.repaired : 0)
    ) {
      reasons.push(
        `last reconciliation found ${reconcile.missing + reconcile.extra + reconcile.altered} difference(s) it did not repair`,
      );
    }
    // Never repaired automatically: an operator has to look (README: "After a point-in-time restore").
    if (reconcile?.regressed)
      reasons.push(
        `last reconciliation found ${reconcile.regressed} version regression(s): npm run ops -- regressions`,
      );
    if (reconcile?.invalid)
      reasons.push(
        `last reconciliation found ${reconcile.invalid} row(s) it could not check or write (see its problems)`,
      );
    if (e.authority === "d1" && (ageSeconds(outbox.oldest) ?? 0) > STATUS_LIMITS.backlogStaleSeconds)
      reasons.push("outbox has events unpublished for over 5 minutes");
    return {
      entity: e.name,
      authority: e.authority,
      replica: e.replica,
      rows: { supabase: supabaseRows, d1: d1Rows },
      lastEvent: state
        ? { id: state.last_event_id, occurredAt: state.last_event_at, appliedAt: state.last_applied_at }
        : null,
      lagSeconds:
        state?.last_event_at && state.last_applied_at
          ? Math.max(0, Math.round((Date.parse(state.last_applied_at) - Date.parse(state.last_event_at)) / 1000))
          : null,
      events: state ? { applied: state.applied_total, stale: state.stale_total, failed: state.failed_total } : null,
      backlog,
      openFailedTasks: open,
      lastReconciliation: reconcile ?? null,
      healthy: reasons.length === 0,
      reasons,
    };
  });

  const reasons: string[] = [];
  if (!sb) reasons.push(`Supabase unreachable: ${(supabase as Error).message}`);
  const sweepAge = ageSeconds(cursor?.last_run_at);
  if (sweepAge === null || sweepAge > STATUS_LIMITS.sweepStaleSeconds)
    reasons.push(
      sweepAge === null ? "the change-log sweep has never run" : `the change-log sweep last ran ${sweepAge} s ago`,
    );
  const unswept = ageSeconds(sb?.oldest_unswept_at);
  if (unswept !== null && unswept > STATUS_LIMITS.backlogStaleSeconds)
    reasons.push(
      `the oldest unswept change is ${unswept} s old (an open transaction holds the horizon, or the sweep is failing)`,
    );
  for (const b of Object.values(deps.breakers))
    if (b.state !== "closed") reasons.push(`circuit to ${b.name} is ${b.state}`);
  for (const e of entities) if (!e.healthy) reasons.push(`${e.entity}: ${e.reasons.join("; ")}`);
  const integrity = integrityRows!.results[0] as
    { id: string; finished_at: string; issues: number; findings: string } | undefined;
  if (integrity?.issues) reasons.push(`last integrity check found ${integrity.issues} issue(s)`);

  const queues = await Promise.all(
    (deps.queues ?? []).map((q) =>
      q.metrics().then(
        (m) => m.backlogCount,
        () => null,
      ),
    ),
  );
  return {
    healthy: reasons.length === 0,
    reasons,
    entities,
    sweeps: {
      changeLog: {
        cursor: cursor ? { txid: cursor.txid, seq: cursor.seq } : null,
        lastRunAt: cursor?.last_run_at ?? null,
        ageSeconds: sweepAge,
        backlog: sb ? Object.values(sb.change_log_backlog).reduce((a, b) => a + b, 0) : null,
        oldestUnsweptAt: sb?.oldest_unswept_at ?? null,
      },
      outbox: { unpublished: outbox.n, oldest: outbox.oldest },
    },
    integrity: integrity
      ? {
          id: integrity.id,
          finishedAt: integrity.finished_at,
          issues: integrity.issues,
          findings: JSON.parse(integrity.findings),
        }
      : null,
    replay: replaySummary(replayRows!.results[0] as { open_groups: number; running_jobs: string | null }),
    circuits: Object.fromEntries(Object.entries(deps.breakers).map(([k, b]) => [k, b.state])),
    queueBacklog: queues.some((q) => q !== null) ? queues : null,
  };
}

/** Failure groups waiting for an operator, and replay jobs at work (details: npm run ops -- groups / jobs). */
function replaySummary(row: { open_groups: number; running_jobs: string | null }) {
  return { openFailureGroups: row.open_groups, runningJobs: row.running_jobs ? row.running_jobs.split(",") : [] };
}
