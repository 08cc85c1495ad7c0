import { deadLetterSchema } from "../schemas/dead-letter";
import { QUEUES, type QueueName } from "../schemas/registry";
import { utcNow } from "../core/utc";
import type { AlertSink } from "../core/ledger/alerts";
import { failureRow, insertFailedTasks, type FailureRow } from "../core/ledger/record-failures";

/** Which work queue a dead-letter queue belongs to. */
const WORK_QUEUE_OF: Record<string, QueueName> = {
  [QUEUES.toD1Dlq]: QUEUES.toD1,
  [QUEUES.toSupabaseDlq]: QUEUES.toSupabase,
};

export interface DeadLetterDeps {
  db: D1Database;
  /** Called with the failure groups this batch opened (new, or failing again after resolved). */
  alert: AlertSink;
  /** Replays after which a task that fails again is quarantined. */
  quarantineAfter?: number;
}

/** Consumes a dead-letter queue into failed_tasks, one D1 batch for the whole batch. */
export async function recordFailedTasks(deps: DeadLetterDeps, batch: MessageBatch<unknown>): Promise<number> {
  const rows = batch.messages.map((m) => toFailure(batch.queue, m));
  let opened;
  try {
    ({ opened } = await insertFailedTasks(deps.db, rows, { quarantineAfter: deps.quarantineAfter }));
  } catch (error) {
    console.error(JSON.stringify({ msg: "failed_tasks write failed", queue: batch.queue, error: String(error) }));
    batch.retryAll({ delaySeconds: 30 });
    return 0;
  }
  batch.ackAll();
  console.log(
    JSON.stringify({
      msg: "dead letters recorded",
      queue: batch.queue,
      count: rows.length,
      opened_groups: opened.map((g) => g.id),
    }),
  );
  await deps.alert(opened);
  return rows.length;
}

function toFailure(dlq: string, message: Message<unknown>): FailureRow {
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
  return failureRow(base);
}
