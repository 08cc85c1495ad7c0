import { MAX_EVENT_BYTES, syncEventSchema, type SyncEvent } from "../schemas/event";
import { entityByName, queueFor, type QueueName } from "../schemas/registry";
import { describe, TransientError, ValidationError } from "../core/errors";
import { jsonBytes, sendBatches } from "../core/batching/send-batches";
import { formatIssues } from "../core/zod-issues";
import { isQueueSizeRefusal } from "../core/stores/queue-errors";

export type QueueBindings = Record<QueueName, Queue>;

export function assertEventFits(event: SyncEvent): void {
  const bytes = jsonBytes(event);
  if (bytes > MAX_EVENT_BYTES) {
    throw new ValidationError(
      "EVENT_TOO_LARGE",
      `event for ${event.entity} ${event.key.id} is ${bytes} bytes (UTF-8); a queue message holds at most ${MAX_EVENT_BYTES}`,
      { bytes, limitBytes: MAX_EVENT_BYTES },
      413,
    );
  }
}

/**
 * Puts events on the queue the registry assigns to their entity (sendBatch per queue, split to
 * the platform's limits). All or nothing from the caller's view: one event that cannot be queued
 * refuses the call, and a queue refusal is transient (the caller answers 503). For one event at a
 * time (the webhook); sweeps use `publishIsolated`, which cannot be wedged by one bad entry.
 */
export async function publishEvents(queues: QueueBindings, events: SyncEvent[]): Promise<void> {
  const byQueue = new Map<QueueName, SyncEvent[]>();
  for (const event of events) {
    assertEventFits(event);
    const queue = queueFor(entityByName(event.entity)!);
    const list = byQueue.get(queue);
    // Appended in place: copying the list per event was quadratic in a sweep page (500 events).
    if (list) list.push(event);
    else byQueue.set(queue, [event]);
  }
  for (const [queue, list] of byQueue) {
    try {
      for (const batch of sendBatches(list, (event) => event)) {
        await queues[queue].sendBatch(batch.map((body) => ({ body, contentType: "json" as const })));
      }
    } catch (error) {
      throw new TransientError("QUEUE_UNAVAILABLE", `queue ${queue} refused the event: ${String(error)}`, error);
    }
  }
}

type Described = ReturnType<typeof describe>;

/** What `publishIsolated` did with each item: every item is in exactly one of the three lists. */
export interface IsolatedOutcome<T> {
  published: T[];
  /** Can never be queued (too large, unknown entity, invalid envelope): record it, do not retry it. */
  rejected: Array<{ item: T; event: SyncEvent | null; error: Described }>;
  /** Not sent because a queue was unavailable: try again on the next run. */
  unsent: T[];
  /** The outage that left `unsent` items, if any. */
  error?: Described;
}

/**
 * Publishes what it can and isolates what can never be queued, for the sweeps: a page published
 * all or nothing would be refused forever by one bad entry, and every later entry would wait
 * behind it. Each item is judged on its own before sending (entity, envelope, size in bytes); if
 * the queue still refuses a whole sendBatch for its size (our estimate and the platform's differ),
 * that batch is sent one message at a time to find the culprit. Any other refusal is an outage:
 * nothing is rejected for it, and the rest of that queue's items are left for the next run.
 * `eventOf` is called once per item; it may throw a ValidationError for an item it cannot build.
 */
export async function publishIsolated<T>(
  queues: QueueBindings,
  items: T[],
  eventOf: (item: T) => SyncEvent,
): Promise<IsolatedOutcome<T>> {
  const outcome: IsolatedOutcome<T> = { published: [], rejected: [], unsent: [] };
  const byQueue = new Map<QueueName, Array<{ item: T; event: SyncEvent }>>();
  for (const item of items) {
    let event: SyncEvent | null = null;
    try {
      event = eventOf(item);
      const queue = judge(event);
      const list = byQueue.get(queue);
      if (list) list.push({ item, event });
      else byQueue.set(queue, [{ item, event }]);
    } catch (error) {
      outcome.rejected.push({ item, event, error: describe(error) });
    }
  }
  for (const [queue, list] of byQueue) {
    let down: Described | undefined;
    for (const batch of sendBatches(list, (x) => x.event)) {
      if (down) {
        outcome.unsent.push(...batch.map((x) => x.item));
        continue;
      }
      try {
        await queues[queue].sendBatch(batch.map((x) => ({ body: x.event, contentType: "json" as const })));
        outcome.published.push(...batch.map((x) => x.item));
        continue;
      } catch (error) {
        if (!isQueueSizeRefusal(error)) {
          down = describe(
            new TransientError("QUEUE_UNAVAILABLE", `queue ${queue} refused the batch: ${String(error)}`, error),
          );
          outcome.unsent.push(...batch.map((x) => x.item));
          continue;
        }
      }
      for (const x of batch) {
        if (down) {
          outcome.unsent.push(x.item);
          continue;
        }
        try {
          await queues[queue].send(x.event, { contentType: "json" });
          outcome.published.push(x.item);
        } catch (error) {
          if (isQueueSizeRefusal(error)) {
            const message = `queue ${queue} refused event for ${x.event.entity} ${x.event.key.id} as too large: ${String(error)}`;
            outcome.rejected.push({
              item: x.item,
              event: x.event,
              error: describe(new ValidationError("EVENT_TOO_LARGE", message, undefined, 413)),
            });
          } else {
            down = describe(
              new TransientError("QUEUE_UNAVAILABLE", `queue ${queue} refused the event: ${String(error)}`, error),
            );
            outcome.unsent.push(x.item);
          }
        }
      }
    }
    outcome.error ??= down;
  }
  return outcome;
}

/** The queue an event goes to, or why it can never go to one. */
function judge(event: SyncEvent): QueueName {
  const entity = entityByName(event.entity);
  if (!entity?.replica) {
    throw new ValidationError(
      "UNKNOWN_ENTITY",
      `no entity ${event.entity} is replicated (the registry does not know where to send it)`,
      undefined,
      422,
    );
  }
  const envelope = syncEventSchema.safeParse(event);
  if (!envelope.success) {
    // The consumer would dead-letter it at once for the same reason.
    throw new ValidationError(
      "INVALID_EVENT",
      `event envelope is invalid: ${formatIssues(envelope.error)}`,
      undefined,
      422,
    );
  }
  assertEventFits(event);
  return queueFor(entity);
}

/** The bindings from the worker's env, keyed by queue name. */
export function queueBindings(env: {
  TO_D1: Queue;
  TO_SUPABASE: Queue;
  TO_D1_DLQ: Queue;
  TO_SUPABASE_DLQ: Queue;
}): QueueBindings {
  return {
    "to-d1": env.TO_D1,
    "to-supabase": env.TO_SUPABASE,
    "to-d1-dlq": env.TO_D1_DLQ,
    "to-supabase-dlq": env.TO_SUPABASE_DLQ,
  };
}
