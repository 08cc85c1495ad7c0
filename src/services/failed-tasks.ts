import type { z } from "zod";
import type { FailedTask, ListTasksQuery, taskDetailSchema } from "../../schemas/operator-api";
import { NotFoundError } from "../../core/errors";
import { taskFilterSql } from "./task-filter-sql";

export const TASK_COLUMNS = `id, queue, event_id, entity, row_id, op, group_id, error_code, error_message, retryable, attempts,
  failure_count, replay_count, status, first_failed_at, last_failed_at, last_replayed_at, last_job_id, resolved_at`;

/** Newest first, keyset-paginated on the ULID id (stable under concurrent inserts). */
export async function listFailedTasks(
  db: D1Database,
  query: ListTasksQuery,
): Promise<{ items: FailedTask[]; nextCursor: string | null }> {
  const { cursor, limit, ...filter } = query;
  const where = taskFilterSql(filter);
  const args = [...where.args, cursor ?? null, limit + 1];
  const n = where.args.length;
  const { results } = await db
    .prepare(
      `SELECT ${TASK_COLUMNS} FROM failed_tasks WHERE ${where.sql} AND (?${n + 1} IS NULL OR id < ?${n + 1}) ORDER BY id DESC LIMIT ?${n + 2}`,
    )
    .bind(...args)
    .all<Record<string, unknown>>();
  const items = results.slice(0, limit).map(toTask);
  return { items, nextCursor: results.length > limit ? items[items.length - 1]!.id : null };
}

export async function getFailedTask(
  db: D1Database,
  id: string,
): Promise<FailedTask & { event: unknown; event_redacted_at: string | null }> {
  const row = await db
    .prepare(`SELECT ${TASK_COLUMNS}, event, event_redacted_at FROM failed_tasks WHERE id = ?1`)
    .bind(id)
    .first<Record<string, unknown>>();
  if (!row) throw new NotFoundError(`failed task ${id} does not exist`);
  return {
    ...toTask(row),
    event: JSON.parse(String(row.event)),
    event_redacted_at: (row.event_redacted_at as string | null) ?? null,
  };
}

/** A task with its full event and every failure, replay and outcome, oldest first. */
export async function getTaskDetail(db: D1Database, id: string): Promise<z.infer<typeof taskDetailSchema>> {
  const task = await getFailedTask(db, id);
  const { results } = await db
    .prepare(
      `SELECT at, kind, job_id, actor, mode, error_code, error_message, message_id FROM failed_task_history
        WHERE queue = ?1 AND event_id = ?2 ORDER BY at, id`,
    )
    .bind(task.queue, task.event_id)
    .all<z.infer<typeof taskDetailSchema>["history"][number]>();
  return { task, history: results };
}

export function toTask(row: Record<string, unknown>): FailedTask {
  return { ...(row as unknown as FailedTask), retryable: row.retryable === 1 || row.retryable === true };
}
