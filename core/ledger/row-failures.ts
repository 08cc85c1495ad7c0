import type { EntityDefinition } from "../../schemas/define-entity";
import { makeEvent } from "../../schemas/event";
import { queueFor, type EntityName } from "../../schemas/registry";
import { utcNow } from "../utc";
import { failureRow, insertFailedTasks } from "./record-failures";
import { UNSETTLED } from "./task-status";

/** A source row that backfill or reconciliation could not check or write, and why. */
export interface RowFailure {
  row: Record<string, unknown>;
  code: string;
  reason: string;
}

/**
 * Records rows backfill or reconciliation could not take in failed_tasks, like any event that
 * failed, so they reach failure groups and alerts and can be replayed once fixed at the source.
 * Both meet the same bad row again on every pass (reconciliation hourly) until then: a row whose
 * task is still open at the same version is not recorded again.
 */
export async function recordRowFailures(
  db: D1Database,
  entity: EntityDefinition,
  source: "backfill" | "reconcile",
  trace: string,
  failures: RowFailure[],
): Promise<void> {
  if (!failures.length) return;
  const { results } = await db
    .prepare(
      `SELECT row_id, json_extract(event, '$.version') AS version FROM failed_tasks
        WHERE entity = ?1 AND status IN ${UNSETTLED} AND row_id IN (SELECT value FROM json_each(?2))`,
    )
    .bind(entity.name, JSON.stringify(failures.map((f) => String(f.row.id))))
    .all<{ row_id: string; version: number }>();
  const known = new Set(results.map((r) => `${r.row_id}:${Number(r.version)}`));
  const rows = failures
    .filter((f) => !known.has(`${String(f.row.id)}:${Number(f.row.version)}`))
    .map((f) => {
      const event = makeEvent({
        entity: entity.name as EntityName,
        op: "upsert",
        key: { id: String(f.row.id) },
        version: Number(f.row.version),
        row: f.row,
        source,
        trace_id: trace,
      });
      return failureRow({
        queue: queueFor(entity),
        // failureRow leaves out a row image larger than a queue message, and says so.
        event,
        error_code: f.code,
        error_message: f.reason,
        retryable: 0,
        attempts: 0,
        last_message_id: `${source}:${event.id}`,
        failed_at: utcNow(),
      });
    });
  await insertFailedTasks(db, rows);
}
