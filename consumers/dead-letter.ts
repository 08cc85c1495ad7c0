import { deadLetterSchema } from "../schemas/dead-letter";
import { newEventId } from "../schemas/event";
import { QUEUES, type QueueName } from "../schemas/registry";
import { utcNow } from "../src/lib/utc";

/** Which work queue a dead-letter queue belongs to. */
const WORK_QUEUE_OF: Record<string, QueueName> = { [QUEUES.toD1Dlq]: QUEUES.toD1, [QUEUES.toSupabaseDlq]: QUEUES.toSupabase };

interface TaskRow {
  id: string;
  queue: string;
  event_id: string;
  entity: string | null;
  row_id: string | null;
  op: string | null;
  event: string;
  error_code: string;
  error_message: string;
  retryable: number;
  attempts: number;
  last_message_id: string;
  failed_at: string;
}

/**
 * Consumes a dead-letter queue into failed_tasks: one statement for the whole batch.
 * Idempotent per message: a redelivered DLQ message (same original message id) changes nothing;
 * a new failure of the same event (e.g. after a replay) reopens its task and counts it.
 */
export async function recordFailedTasks(db: D1Database, batch: MessageBatch<unknown>): Promise<number> {
  const rows = batch.messages.map((m) => toTaskRow(batch.queue, m));
  try {
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
  } catch (error) {
    console.error(JSON.stringify({ msg: "failed_tasks write failed", queue: batch.queue, error: String(error) }));
    batch.retryAll({ delaySeconds: 30 });
    return 0;
  }
  batch.ackAll();
  console.log(JSON.stringify({ msg: "dead letters recorded", queue: batch.queue, count: rows.length }));
  return rows.length;
}

function toTaskRow(dlq: string, message: Message<unknown>): TaskRow {
  const letter = deadLetterSchema.safeParse(message.body);
  const now = utcNow();
  const base = letter.success
    ? {
        queue: letter.data.queue,
        event: letter.data.event,
        error_code: letter.data.error.code,
        error_message: letter.data.error.message,
        retryable: letter.data.error.retryable ? 1 : 0,
        attempts: letter.data.attempts,
        last_message_id: letter.data.message_id,
        failed_at: letter.data.failed_at,
      }
    : {
        // Moved here by Cloudflare after max_retries: our consumer never got to say why.
        queue: WORK_QUEUE_OF[dlq] ?? dlq,
        event: message.body,
        error_code: "RETRIES_EXHAUSTED",
        error_message:
          "delivery failed on every attempt without a recorded reason (the consumer threw, timed out or was evicted)",
        retryable: 1,
        attempts: message.attempts,
        last_message_id: message.id,
        failed_at: now,
      };
  const event = (base.event ?? {}) as Record<string, unknown>;
  const key = event.key as Record<string, unknown> | undefined;
  return {
    id: newEventId(),
    ...base,
    event_id: typeof event.id === "string" ? event.id : `message:${base.last_message_id}`,
    entity: typeof event.entity === "string" ? event.entity : null,
    row_id: typeof key?.id === "string" ? key.id : null,
    op: typeof event.op === "string" ? event.op : null,
    event: JSON.stringify(base.event ?? null),
  };
}
