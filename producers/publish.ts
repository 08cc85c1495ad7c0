import type { SyncEvent } from "../schemas/event";
import { entityByName, queueFor, type QueueName } from "../schemas/registry";
import { TransientError, ValidationError } from "../src/lib/errors";
import { sendBatches } from "../src/lib/send-batches";

export type QueueBindings = Record<QueueName, Queue>;

/** Cloudflare Queues refuses messages over 128 KB; leave room for the envelope's own encoding. */
export const MAX_EVENT_BYTES = 120 * 1024;

const encoder = new TextEncoder();

export function assertEventFits(event: SyncEvent): void {
  const bytes = encoder.encode(JSON.stringify(event)).byteLength;
  if (bytes > MAX_EVENT_BYTES) {
    throw new ValidationError(
      "EVENT_TOO_LARGE",
      `event for ${event.entity} ${event.key.id} is ${bytes} bytes; a queue message holds at most ${MAX_EVENT_BYTES}`,
      undefined,
      413,
    );
  }
}

/**
 * Puts events on the queue the registry assigns to their entity (sendBatch per queue, split to
 * the platform's limits). A refusal is transient: the caller answers 503 or leaves the outbox
 * row unpublished for the sweep.
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

/** The bindings from the worker's env, keyed by queue name. */
export function queueBindings(env: { TO_D1: Queue; TO_SUPABASE: Queue; TO_D1_DLQ: Queue; TO_SUPABASE_DLQ: Queue }): QueueBindings {
  return { "to-d1": env.TO_D1, "to-supabase": env.TO_SUPABASE, "to-d1-dlq": env.TO_D1_DLQ, "to-supabase-dlq": env.TO_SUPABASE_DLQ };
}
