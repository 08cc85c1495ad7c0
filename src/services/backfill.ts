import type { ReplicaTarget } from "../../consumers/apply-batch";
import { validateEvent, type ValidEvent } from "../../consumers/validate-event";
import type { EntityDefinition } from "../../schemas/define-entity";
import { makeEvent } from "../../schemas/event";
import { queueFor, type EntityName } from "../../schemas/registry";
import { describe } from "../lib/errors";
import { utcNow } from "../lib/utc";
import type { PageReader } from "../stores/store-pages";
import { failureRow, insertFailedTasks, type FailureRow } from "./record-failures";

export interface BackfillState {
  entity: string;
  status: "running" | "complete";
  cursor: string | null;
  copied: number;
  applied: number;
  total_estimate: number | null;
  started_at: string;
  updated_at: string;
  finished_at: string | null;
}

/**
 * Full resync of one entity's replica from its authoritative store, one bounded step at a time:
 * pages in key order, each applied in one transaction through the same replica target as the
 * consumers, so the version rule makes it safe while live changes flow (a row the replica already
 * holds at the same or a newer version is left alone). The cursor is stored after every page, so
 * an interrupted backfill resumes where it stopped. A row the registry rejects is recorded in
 * failed_tasks with its reason, not skipped silently.
 */
export async function backfillStep(
  deps: { source: PageReader; target: ReplicaTarget; db: D1Database },
  entity: EntityDefinition,
  opts: { maxRows?: number; pageSize?: number; restart?: boolean; totalEstimate?: number | null } = {},
): Promise<BackfillState> {
  const pageSize = opts.pageSize ?? 500;
  const maxRows = opts.maxRows ?? 5000;
  let state = opts.restart ? null : await getBackfill(deps.db, entity.name);
  if (!state || state.status === "complete") {
    const now = utcNow();
    state = { entity: entity.name, status: "running", cursor: null, copied: 0, applied: 0, total_estimate: opts.totalEstimate ?? null, started_at: now, updated_at: now, finished_at: null };
  }
  let done = 0;
  while (done < maxRows) {
    const rows = await deps.source.read(entity.name, state.cursor, null, pageSize);
    const valid: ValidEvent[] = [];
    const failures: FailureRow[] = [];
    for (const row of rows) {
      const event = makeEvent({ entity: entity.name as EntityName, op: "upsert", key: { id: String(row.id) }, version: Number(row.version), row, source: "backfill", trace_id: `backfill:${entity.name}` });
      try {
        valid.push(validateEvent(event, deps.target.store));
      } catch (error) {
        const info = describe(error);
        failures.push(failureRow({ queue: queueFor(entity), event, error_code: info.code, error_message: info.message, retryable: 0, attempts: 0, last_message_id: `backfill:${event.id}`, failed_at: utcNow() }));
      }
    }
    if (failures.length) await insertFailedTasks(deps.db, failures);
    if (valid.length) {
      const current = await deps.target.apply(valid);
      state.applied += valid.filter((v) => current.get(v.event.id) === v.event.version).length;
    }
    done += rows.length;
    state.copied += rows.length;
    if (rows.length) state.cursor = String(rows[rows.length - 1]!.id);
    state.updated_at = utcNow();
    if (rows.length < pageSize) {
      state.status = "complete";
      state.finished_at = state.updated_at;
    }
    await saveBackfill(deps.db, state);
    if (state.status === "complete") break;
  }
  return state;
}

export async function getBackfill(db: D1Database, entity: string): Promise<BackfillState | null> {
  return db.prepare("SELECT * FROM sync_backfills WHERE entity = ?1").bind(entity).first<BackfillState>();
}

async function saveBackfill(db: D1Database, s: BackfillState): Promise<void> {
  await db
    .prepare(
      `INSERT INTO sync_backfills (entity, status, cursor, copied, applied, total_estimate, started_at, updated_at, finished_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
       ON CONFLICT (entity) DO UPDATE SET status = excluded.status, cursor = excluded.cursor, copied = excluded.copied,
         applied = excluded.applied, total_estimate = excluded.total_estimate, started_at = excluded.started_at,
         updated_at = excluded.updated_at, finished_at = excluded.finished_at`,
    )
    .bind(s.entity, s.status, s.cursor, s.copied, s.applied, s.total_estimate, s.started_at, s.updated_at, s.finished_at)
    .run();
}
