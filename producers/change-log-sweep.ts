import { derivedEventId, makeEvent, type SyncEvent } from "../schemas/event";
import { entityByName, QUEUES, type EntityName } from "../schemas/registry";
import { ValidationError, type describe } from "../core/errors";
import { utcNow } from "../core/utc";
import { SETTINGS } from "../core/settings";
import { failureRow, insertFailedTasks } from "../core/ledger/record-failures";
import { d1ApplySql } from "../core/stores/d1-apply-sql";
import type { SupabaseRpc } from "../core/stores/supabase-rpc";
import { publishIsolated, type QueueBindings } from "./publish";

/** One entry of sync.change_log, as sync_changes_after returns it. */
export interface ChangeLogEntry {
  txid: string;
  seq: number;
  entity: string;
  row_id: string;
  op: "upsert" | "delete";
  version: number;
  row: Record<string, unknown> | null;
  recorded_at: string;
}

export interface SweepOptions {
  /** Entries read per call (bounded by the SQL function too). */
  batchSize?: number;
  /** Calls per run and wall-clock budget: bound one cron invocation; the next run resumes at the cursor. */
  maxBatches?: number;
  budgetMs?: number;
  /** Entries younger than this are left to the webhook path for now (avoids needless duplicates). */
  graceSeconds?: number;
}

export interface SweepResult {
  scanned: number;
  republished: number;
  failed: number;
  cursor: { txid: string; seq: number };
  horizon: string | null;
  /** The run reached the end of what is sweepable now (the horizon or the grace period). */
  caughtUp: boolean;
  /**
   * The queue was unavailable: the run stopped, the cursor stands before the first entry not
   * sent, and the next run sends it. Entries that can never be queued are not errors: they are
   * counted in `failed` and recorded in failed_tasks.
   */
  error?: ReturnType<typeof describe>;
}

export const CHANGE_LOG_CURSOR = "supabase-change-log";

/**
 * The guarantee behind the at-most-once webhooks: walks the Supabase change log from the stored
 * cursor, below the transaction-id horizon (see migrations/supabase/0004), and republishes every
 * entry whose version the D1 replica does not hold yet. Entries are published before the cursor
 * moves, so a crash repeats work (harmless: version rule) and never skips it. An entry that can
 * never be queued is recorded in failed_tasks (once: its failed task is keyed by the entry) and the
 * cursor moves past it, so it cannot hold back the entries after it. A queue outage is not such an
 * entry: the cursor stops before the first entry not sent and the run ends.
 */
export async function sweepChangeLog(
  deps: { rpc: SupabaseRpc; db: D1Database; queues: QueueBindings },
  opts: SweepOptions = {},
): Promise<SweepResult> {
  const batchSize = opts.batchSize ?? 500;
  const maxBatches = opts.maxBatches ?? 200;
  const deadline = Date.now() + (opts.budgetMs ?? 20_000);
  const graceMs = (opts.graceSeconds ?? SETTINGS.SWEEP_GRACE_SECONDS.default) * 1000;
  const cursor = await readCursor(deps.db);
  const result: SweepResult = { scanned: 0, republished: 0, failed: 0, cursor, horizon: null, caughtUp: false };

  for (let i = 0; i < maxBatches; i++) {
    const page = await deps.rpc.call<{ horizon: string; now: string; entries: ChangeLogEntry[] }>(
      "sync_changes_after",
      {
        p_txid: result.cursor.txid,
        p_seq: result.cursor.seq,
        p_limit: batchSize,
      },
    );
    result.horizon = page.horizon;
    // Stop at the first entry still inside the grace period, so the cursor never passes it.
    const cutoff = Date.parse(page.now) - graceMs;
    const young = page.entries.findIndex((e) => Date.parse(e.recorded_at) > cutoff);
    const entries = young === -1 ? page.entries : page.entries.slice(0, young);
    if (entries.length) {
      const outcome = await republishMissing(deps, entries);
      result.republished += outcome.republished;
      result.failed += outcome.failed;
      // Everything before the first entry not sent is settled: published, recorded or not needed.
      const done = outcome.firstUnsent === -1 ? entries : entries.slice(0, outcome.firstUnsent);
      result.scanned += done.length;
      if (done.length) {
        const last = done[done.length - 1]!;
        result.cursor = { txid: last.txid, seq: last.seq };
        await writeCursor(deps.db, result.cursor, page.horizon, done.length, outcome.republished);
      }
      if (outcome.error) {
        result.error = outcome.error;
        break;
      }
    }
    if (young !== -1 || page.entries.length < batchSize) {
      result.caughtUp = true;
      break;
    }
    if (Date.now() > deadline) break;
  }
  return result;
}

/**
 * Publishes the entries the replica is behind on and records those that can never be queued as
 * failed tasks. `firstUnsent` is the index of the first entry a queue outage left unsent (-1: none).
 */
async function republishMissing(
  deps: { db: D1Database; queues: QueueBindings },
  entries: ChangeLogEntry[],
): Promise<{ republished: number; failed: number; firstUnsent: number; error?: ReturnType<typeof describe> }> {
  const held = await replicaVersions(deps.db, entries);
  const due: Array<{ entry: ChangeLogEntry; index: number; event: SyncEvent | null }> = [];
  for (const [index, e] of entries.entries()) {
    if (entityByName(e.entity)?.replica !== "d1") {
      due.push({ entry: e, index, event: null });
      continue;
    }
    if ((held.get(`${e.entity}:${e.row_id}`) ?? 0) >= e.version) continue;
    const event = makeEvent({
      entity: e.entity as EntityName,
      op: e.op,
      key: { id: e.row_id },
      version: e.version,
      row: e.row,
      source: "supabase-change-log",
      trace_id: `change-log:${e.txid}:${e.seq}`,
    });
    // Derived from the entry: a failure recorded for it on one run is the same task on the next.
    due.push({
      entry: e,
      index,
      event: { ...event, id: await derivedEventId(`change-log:${e.txid}:${e.seq}`, Date.parse(e.recorded_at)) },
    });
  }
  const outcome = await publishIsolated(deps.queues, due, (d) => {
    if (!d.event) {
      throw new ValidationError(
        "UNKNOWN_ENTITY",
        `change log has an entry for ${d.entry.entity}, which the registry does not replicate to D1`,
        undefined,
        422,
      );
    }
    return d.event;
  });
  const failedAt = utcNow();
  const failures = outcome.rejected.map(({ item: d, event, error }) =>
    failureRow({
      queue: QUEUES.toD1,
      // An entry that is no event is kept as it is, its row id where failed_tasks filters by it.
      event: event ?? { ...d.entry, key: { id: d.entry.row_id } },
      error_code: error.code,
      error_message: error.message,
      retryable: 0,
      attempts: 0,
      // With the derived event id, this makes recording the same entry again a no-op.
      last_message_id: `sweep:${d.entry.txid}:${d.entry.seq}`,
      failed_at: failedAt,
    }),
  );
  // Recorded before the cursor moves past them: a crash records them again, which changes nothing.
  if (failures.length) await insertFailedTasks(deps.db, failures);
  const firstUnsent = outcome.unsent.length ? Math.min(...outcome.unsent.map((d) => d.index)) : -1;
  return { republished: outcome.published.length, failed: failures.length, firstUnsent, error: outcome.error };
}

/** Versions the D1 replica holds (row or tombstone) for the entries' rows: one D1 round trip. */
async function replicaVersions(db: D1Database, entries: ChangeLogEntry[]): Promise<Map<string, number>> {
  const ids = new Map<string, Set<string>>();
  for (const e of entries) {
    if (entityByName(e.entity)?.replica !== "d1") continue;
    ids.set(e.entity, (ids.get(e.entity) ?? new Set()).add(e.row_id));
  }
  const names = [...ids.keys()];
  if (!names.length) return new Map();
  const results = await db.batch(
    names.map((n) => db.prepare(d1ApplySql(entityByName(n)!).currentVersions).bind(JSON.stringify([...ids.get(n)!]))),
  );
  const held = new Map<string, number>();
  names.forEach((n, i) => {
    for (const r of results[i]!.results as Array<{ id: string; current: number }>) held.set(`${n}:${r.id}`, r.current);
  });
  return held;
}

/** Where the sweep has got to; (0, 0) before its first run. */
export async function readCursor(db: D1Database): Promise<{ txid: string; seq: number }> {
  const row = await db
    .prepare("SELECT txid, seq FROM sync_cursors WHERE name = ?1")
    .bind(CHANGE_LOG_CURSOR)
    .first<{ txid: string; seq: number }>();
  return row ?? { txid: "0", seq: 0 };
}

async function writeCursor(
  db: D1Database,
  cursor: { txid: string; seq: number },
  horizon: string,
  scanned: number,
  republished: number,
) {
  await db
    .prepare(
      `INSERT INTO sync_cursors (name, txid, seq, horizon, last_run_at, scanned_total, republished_total)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
       ON CONFLICT (name) DO UPDATE SET txid = excluded.txid, seq = excluded.seq, horizon = excluded.horizon,
         last_run_at = excluded.last_run_at, scanned_total = sync_cursors.scanned_total + excluded.scanned_total,
         republished_total = sync_cursors.republished_total + excluded.republished_total`,
    )
    .bind(CHANGE_LOG_CURSOR, cursor.txid, cursor.seq, horizon, utcNow(), scanned, republished)
    .run();
}
