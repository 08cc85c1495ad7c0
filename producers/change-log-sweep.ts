import { makeEvent, type SyncEvent } from "../schemas/event";
import { entityByName, QUEUES, type EntityName } from "../schemas/registry";
import { describe } from "../src/lib/errors";
import { utcNow } from "../src/lib/utc";
import { failureRow, insertFailedTasks, type FailureRow } from "../src/services/record-failures";
import { d1ApplySql } from "../src/stores/d1-apply-sql";
import type { SupabaseRpc } from "../src/stores/supabase-rpc";
import { assertEventFits, publishEvents, type QueueBindings } from "./publish";

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
}

export const CHANGE_LOG_CURSOR = "supabase-change-log";

/**
 * The guarantee behind the at-most-once webhooks: walks the Supabase change log from the stored
 * cursor, below the transaction-id horizon (see migrations/supabase/0004), and republishes every
 * entry whose version the D1 replica does not hold yet. Entries are published before the cursor
 * moves, so a crash repeats work (harmless: version rule) and never skips it.
 */
export async function sweepChangeLog(
  deps: { rpc: SupabaseRpc; db: D1Database; queues: QueueBindings },
  opts: SweepOptions = {},
): Promise<SweepResult> {
  const batchSize = opts.batchSize ?? 500;
  const maxBatches = opts.maxBatches ?? 200;
  const deadline = Date.now() + (opts.budgetMs ?? 20_000);
  const graceMs = (opts.graceSeconds ?? 30) * 1000;
  const cursor = await readCursor(deps.db);
  const result: SweepResult = { scanned: 0, republished: 0, failed: 0, cursor, horizon: null, caughtUp: false };

  for (let i = 0; i < maxBatches; i++) {
    const page = await deps.rpc.call<{ horizon: string; now: string; entries: ChangeLogEntry[] }>("sync_changes_after", {
      p_txid: result.cursor.txid,
      p_seq: result.cursor.seq,
      p_limit: batchSize,
    });
    result.horizon = page.horizon;
    // Stop at the first entry still inside the grace period, so the cursor never passes it.
    const cutoff = Date.parse(page.now) - graceMs;
    const young = page.entries.findIndex((e) => Date.parse(e.recorded_at) > cutoff);
    const entries = young === -1 ? page.entries : page.entries.slice(0, young);
    if (entries.length) {
      const { republished, failed } = await republishMissing(deps, entries);
      result.republished += republished;
      result.failed += failed;
      result.scanned += entries.length;
      const last = entries[entries.length - 1]!;
      result.cursor = { txid: last.txid, seq: last.seq };
      await writeCursor(deps.db, result.cursor, page.horizon, entries.length, republished);
    }
    if (young !== -1 || page.entries.length < batchSize) {
      result.caughtUp = true;
      break;
    }
    if (Date.now() > deadline) break;
  }
  return result;
}

/** Publishes the entries the replica is behind on; records unpublishable ones as failed tasks. */
async function republishMissing(
  deps: { db: D1Database; queues: QueueBindings },
  entries: ChangeLogEntry[],
): Promise<{ republished: number; failed: number }> {
  const held = await replicaVersions(deps.db, entries);
  const events: SyncEvent[] = [];
  const failures: FailureRow[] = [];
  const fail = (event: unknown, e: ChangeLogEntry, code: string, message: string) =>
    failures.push(
      failureRow({ queue: QUEUES.toD1, event, error_code: code, error_message: message, retryable: 0, attempts: 0, last_message_id: `sweep:${e.txid}:${e.seq}`, failed_at: utcNow() }),
    );
  for (const e of entries) {
    if (entityByName(e.entity)?.replica !== "d1") {
      fail(e, e, "UNKNOWN_ENTITY", `change log has an entry for ${e.entity}, which the registry does not replicate to D1`);
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
    try {
      assertEventFits(event);
      events.push(event);
    } catch (error) {
      // It can never be queued: record it now so it is not silently lost.
      const info = describe(error);
      fail(event, e, info.code, info.message);
    }
  }
  if (failures.length) await insertFailedTasks(deps.db, failures);
  await publishEvents(deps.queues, events);
  return { republished: events.length, failed: failures.length };
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
  const row = await db.prepare("SELECT txid, seq FROM sync_cursors WHERE name = ?1").bind(CHANGE_LOG_CURSOR).first<{ txid: string; seq: number }>();
  return row ?? { txid: "0", seq: 0 };
}

async function writeCursor(db: D1Database, cursor: { txid: string; seq: number }, horizon: string, scanned: number, republished: number) {
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
