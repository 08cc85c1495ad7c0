import { z } from "zod";
import type { QueueBindings } from "../../producers/publish";
import { newEventId } from "../../schemas/event";
import { QUEUES, type QueueName } from "../../schemas/registry";
import { ConflictError, NotFoundError, TransientError, ValidationError } from "../lib/errors";
import { utcNow } from "../lib/utc";

export const TASK_STATUSES = ["open", "replaying", "resolved"] as const;

export const listFilterSchema = z.object({
  status: z.enum(TASK_STATUSES).optional(),
  entity: z.string().max(64).optional(),
  queue: z.enum([QUEUES.toD1, QUEUES.toSupabase]).optional(),
  error_code: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** Opaque: the `nextCursor` of the previous page. */
  cursor: z.string().regex(/^[0-9A-Z]{26}$/).optional(),
});
export type ListFilter = z.infer<typeof listFilterSchema>;

const SUMMARY = `id, queue, event_id, entity, row_id, op, error_code, error_message, retryable, attempts, failure_count,
  replay_count, status, first_failed_at, last_failed_at, last_replayed_at, resolved_at`;

export interface FailedTask {
  id: string;
  queue: QueueName;
  event_id: string;
  entity: string | null;
  row_id: string | null;
  op: string | null;
  error_code: string;
  error_message: string;
  retryable: boolean;
  attempts: number;
  failure_count: number;
  replay_count: number;
  status: (typeof TASK_STATUSES)[number];
  first_failed_at: string;
  last_failed_at: string;
  last_replayed_at: string | null;
  resolved_at: string | null;
  event?: unknown;
}

/** Newest first, keyset-paginated on the ULID id (stable under concurrent inserts). */
export async function listFailedTasks(db: D1Database, filter: ListFilter): Promise<{ items: FailedTask[]; nextCursor: string | null }> {
  const where: string[] = [];
  const args: unknown[] = [];
  const add = (clause: string, value: unknown) => {
    args.push(value);
    where.push(clause.replace("?", `?${args.length}`));
  };
  if (filter.status) add("status = ?", filter.status);
  if (filter.entity) add("entity = ?", filter.entity);
  if (filter.queue) add("queue = ?", filter.queue);
  if (filter.error_code) add("error_code = ?", filter.error_code);
  if (filter.cursor) add("id < ?", filter.cursor);
  args.push(filter.limit + 1);
  const sql = `SELECT ${SUMMARY} FROM failed_tasks ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?${args.length}`;
  const { results } = await db.prepare(sql).bind(...args).all<Record<string, unknown>>();
  const items = results.slice(0, filter.limit).map(toTask);
  return { items, nextCursor: results.length > filter.limit ? items[items.length - 1]!.id : null };
}

export async function getFailedTask(db: D1Database, id: string): Promise<FailedTask> {
  const row = await db.prepare(`SELECT ${SUMMARY}, event FROM failed_tasks WHERE id = ?1`).bind(id).first<Record<string, unknown>>();
  if (!row) throw new NotFoundError(`failed task ${id} does not exist`);
  return { ...toTask(row), event: JSON.parse(String(row.event)) };
}

/**
 * Sends the task's event back to its original queue, marked as a replay. The consumer resolves
 * the task when the event applies (or turns out to be superseded); if it fails again, the
 * dead-letter consumer reopens the same task. Replaying cannot overwrite newer data: the
 * version rule still decides.
 */
export async function replayFailedTask(deps: { db: D1Database; queues: QueueBindings }, id: string): Promise<FailedTask> {
  const task = await getFailedTask(deps.db, id);
  if (task.status === "resolved") throw new ConflictError("ALREADY_RESOLVED", `failed task ${id} is already resolved`);
  const event = task.event;
  if (!event || typeof event !== "object" || Array.isArray(event)) {
    throw new ValidationError("NOT_REPLAYABLE", `failed task ${id} holds no event object to replay`, undefined, 422);
  }
  const now = utcNow();
  const replayed = { ...(event as Record<string, unknown>), replay: { task_id: id, replayed_at: now } };
  try {
    await deps.queues[task.queue].send(replayed, { contentType: "json" });
  } catch (error) {
    throw new TransientError("QUEUE_UNAVAILABLE", `queue ${task.queue} refused the replay: ${String(error)}`, error);
  }
  await deps.db
    .prepare(`UPDATE failed_tasks SET status = 'replaying', replay_count = replay_count + 1, last_replayed_at = ?2 WHERE id = ?1 AND status <> 'resolved'`)
    .bind(id, now)
    .run();
  return { ...task, status: "replaying", replay_count: task.replay_count + 1, last_replayed_at: now };
}

function toTask(row: Record<string, unknown>): FailedTask {
  return { ...(row as unknown as FailedTask), retryable: row.retryable === 1 };
}

/** One failure to record: the event as it was queued, why it failed, and which delivery. */
export interface Failure {
  queue: string;
  event: unknown;
  error_code: string;
  error_message: string;
  retryable: number;
  attempts: number;
  last_message_id: string;
  failed_at: string;
}

/** A failure as failed_tasks stores it: the event serialised, its identity pulled out for filtering. */
export type FailureRow = Omit<Failure, "event"> & {
  id: string;
  event: string;
  event_id: string;
  entity: string | null;
  row_id: string | null;
  op: string | null;
};

export function failureRow(f: Failure): FailureRow {
  const event = (f.event ?? {}) as Record<string, unknown>;
  const key = event.key as Record<string, unknown> | undefined;
  return {
    id: newEventId(),
    ...f,
    event_id: typeof event.id === "string" ? event.id : `message:${f.last_message_id}`,
    entity: typeof event.entity === "string" ? event.entity : null,
    row_id: typeof key?.id === "string" ? key.id : null,
    op: typeof event.op === "string" ? event.op : null,
    event: JSON.stringify(f.event ?? null),
  };
}

/**
 * Records failures, one statement for any number. Idempotent per delivery: the same
 * (queue, event, message) recorded twice changes nothing; a new failure of the same event (e.g.
 * after a replay) reopens its task and counts it.
 */
export async function insertFailedTasks(db: D1Database, rows: FailureRow[]): Promise<void> {
  await db
    .prepare(
      `INSERT INTO failed_tasks (id, queue, event_id, entity, row_id, op, event, error_code, error_message, retryable,
                                 attempts, last_message_id, first_failed_at, last_failed_at)
       SELECT json_extract(j.value, '$.id'), json_extract(j.value, '$.queue'), json_extract(j.value, '$.event_id'),
              json_extract(j.value, '$.entity'), json_extract(j.value, '$.row_id'), json_extract(j.value, '$.op'),
              json_extract(j.value, '$.event'), json_extract(j.value, '$.error_code'), json_extract(j.value, '$.error_message'),
              json_extract(j.value, '$.retryable'), json_extract(j.value, '$.attempts'), json_extract(j.value, '$.last_message_id'),
              json_extract(j.value, '$.failed_at'), json_extract(j.value, '$.failed_at')
         FROM json_each(?1) j WHERE true
       ON CONFLICT (queue, event_id) DO UPDATE SET
         failure_count = failed_tasks.failure_count + 1,
         event = excluded.event, error_code = excluded.error_code, error_message = excluded.error_message,
         retryable = excluded.retryable, attempts = excluded.attempts, last_message_id = excluded.last_message_id,
         last_failed_at = excluded.last_failed_at, status = 'open', resolved_at = NULL
       WHERE excluded.last_message_id <> failed_tasks.last_message_id`,
    )
    .bind(JSON.stringify(rows))
    .run();
}
