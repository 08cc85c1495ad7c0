import { applyBatch, type ReplicaTarget } from "../../core/apply-batch";
import type { EntityDefinition } from "../../schemas/define-entity";
import { makeEvent } from "../../schemas/event";
import type { EntityName } from "../../schemas/registry";
import { TransientError } from "../../core/errors";
import { utcNow } from "../../core/utc";
import type { PageReader } from "../../core/stores/store-pages";
import { recordRowFailures, type RowFailure } from "../../core/ledger/row-failures";

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
  /** Rows the registry or the replica refused: each recorded in failed_tasks, the backfill went on. */
  failed: number;
  /** The latest of those (at most MAX_PROBLEMS): row id, code and reason. */
  problems: BackfillProblem[];
}

export interface BackfillProblem {
  id: string;
  code: string;
  reason: string;
}

const MAX_PROBLEMS = 20;

/**
 * Full resync of one entity's replica from its authoritative store, one bounded step at a time:
 * pages in key order, each applied through the consumers' own applyBatch (validation by the
 * registry, one transaction per page, the version rule), so it is safe while live changes flow
 * (a row the replica already holds at the same or a newer version is left alone). The cursor is
 * stored after every page, so an interrupted backfill resumes where it stopped.
 *
 * One bad row must not stop the backfill for good (the next step would re-read the same page):
 * a row the registry or the replica refuses is recorded in failed_tasks with its reason, counted
 * and listed in the backfill's state, and the cursor moves past it. applyBatch isolates a row the
 * store refuses by applying the page's rows one by one. Only a transient failure (a store down)
 * stops the step without moving the cursor, so the page is read again when it is back.
 */
export async function backfillStep(
  deps: { source: PageReader; target: ReplicaTarget; db: D1Database },
  entity: EntityDefinition,
  opts: {
    maxRows?: number;
    pageSize?: number;
    restart?: boolean;
    totalEstimate?: number | null;
    audit?: (state: BackfillState) => D1PreparedStatement;
  } = {},
): Promise<BackfillState> {
  const pageSize = opts.pageSize ?? 500;
  const maxRows = opts.maxRows ?? 5000;
  let state = opts.restart ? null : await getBackfill(deps.db, entity.name);
  if (!state || state.status === "complete") {
    const now = utcNow();
    state = {
      entity: entity.name,
      status: "running",
      cursor: null,
      copied: 0,
      applied: 0,
      total_estimate: opts.totalEstimate ?? null,
      started_at: now,
      updated_at: now,
      finished_at: null,
      failed: 0,
      problems: [],
    };
  }
  let done = 0;
  while (done < maxRows) {
    const rows = await deps.source.read(entity.name, state.cursor, null, pageSize);
    const events = rows.map((row) =>
      makeEvent({
        entity: entity.name as EntityName,
        op: "upsert",
        key: { id: String(row.id) },
        version: Number(row.version),
        row,
        source: "backfill",
        trace_id: `backfill:${entity.name}`,
      }),
    );
    const outcomes = await applyBatch(deps.target, events);
    const transient = outcomes.find((o) => o.kind === "failed" && o.error.retryable);
    if (transient?.kind === "failed") {
      // Nothing of this page is acknowledged: the cursor stays, the next step reads it again.
      throw new TransientError(
        transient.error.code,
        `backfill of ${entity.name} stopped at ${state.cursor ?? "the start"}: ${transient.error.message}`,
      );
    }
    const failures: RowFailure[] = [];
    outcomes.forEach((o, i) => {
      if (o.kind === "applied") state.applied++;
      if (o.kind !== "failed") return;
      failures.push({ row: rows[i]!, code: o.error.code, reason: o.error.message });
      state.problems.push({ id: String(rows[i]!.id), code: o.error.code, reason: o.error.message });
    });
    await recordRowFailures(deps.db, entity, "backfill", `backfill:${entity.name}`, failures);
    state.failed += failures.length;
    state.problems = state.problems.slice(-MAX_PROBLEMS);
    done += rows.length;
    state.copied += rows.length;
    if (rows.length) state.cursor = String(rows[rows.length - 1]!.id);
    state.updated_at = utcNow();
    if (rows.length < pageSize) {
      state.status = "complete";
      state.finished_at = state.updated_at;
    }
    const last = state.status === "complete" || done >= maxRows;
    // The audit line commits with the step's last saved state (same D1 batch).
    await deps.db.batch([saveStatement(deps.db, state), ...(last && opts.audit ? [opts.audit(state)] : [])]);
    if (state.status === "complete") break;
  }
  return state;
}

export async function getBackfill(db: D1Database, entity: string): Promise<BackfillState | null> {
  const row = await db
    .prepare("SELECT * FROM sync_backfills WHERE entity = ?1")
    .bind(entity)
    .first<Omit<BackfillState, "problems"> & { problems: string | null }>();
  return row ? { ...row, problems: row.problems ? (JSON.parse(row.problems) as BackfillProblem[]) : [] } : null;
}

function saveStatement(db: D1Database, s: BackfillState): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO sync_backfills (entity, status, cursor, copied, applied, total_estimate, started_at, updated_at, finished_at, failed, problems)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
       ON CONFLICT (entity) DO UPDATE SET status = excluded.status, cursor = excluded.cursor, copied = excluded.copied,
         applied = excluded.applied, total_estimate = excluded.total_estimate, started_at = excluded.started_at,
         updated_at = excluded.updated_at, finished_at = excluded.finished_at, failed = excluded.failed, problems = excluded.problems`,
    )
    .bind(
      s.entity,
      s.status,
      s.cursor,
      s.copied,
      s.applied,
      s.total_estimate,
      s.started_at,
      s.updated_at,
      s.finished_at,
      s.failed,
      JSON.stringify(s.problems),
    );
}
