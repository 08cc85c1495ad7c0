/**
 * What the bench worker notes while the Node runner drives the stack, kept in the isolate's
 * memory and drained over HTTP (`wrangler dev` runs one isolate, so fetch and queue handlers
 * share it). Off unless a phase turns it on: the backlog runs would otherwise fill it.
 *
 * Times are the isolate's Date.now(), the same wall clock the runner uses (one machine; locally
 * workerd's clock advances during execution too).
 */
export interface RecorderOptions {
  /** Per to-d1 message acked by the consumer: [row id, version, source, ackedAt]. */
  deliveries: boolean;
  /** Per webhook request: [row id, version, receivedAt, answeredAt, status]. */
  webhooks: boolean;
  /** Per consumer invocation: [queue, messages, startedAt, ms]. */
  batches: boolean;
}

export type Delivery = [string, number, string, number];
export type WebhookHit = [string, number, number, number, number];
export type BatchRun = [string, number, number, number];

export const recorder = {
  options: { deliveries: false, webhooks: false, batches: false } as RecorderOptions,
  deliveries: [] as Delivery[],
  webhooks: [] as WebhookHit[],
  batches: [] as BatchRun[],
  reset(options: Partial<RecorderOptions>) {
    this.options = { deliveries: false, webhooks: false, batches: false, ...options };
    this.deliveries = [];
    this.webhooks = [];
    this.batches = [];
  },
  drain() {
    const out = { deliveries: this.deliveries, webhooks: this.webhooks, batches: this.batches };
    this.deliveries = [];
    this.webhooks = [];
    this.batches = [];
    return out;
  },
};

/** Wraps a batch so that acks are seen (and still reach the runtime). */
export function observed(batch: MessageBatch<unknown>): { batch: MessageBatch<unknown>; acked: boolean[] } {
  const acked = batch.messages.map(() => false);
  const messages = batch.messages.map((m, i) => ({
    id: m.id,
    body: m.body,
    attempts: m.attempts,
    timestamp: m.timestamp,
    ack: () => {
      acked[i] = true;
      m.ack();
    },
    retry: (o?: QueueRetryOptions) => m.retry(o),
  }));
  const wrapped = {
    queue: batch.queue,
    metadata: batch.metadata,
    messages,
    ackAll: () => {
      acked.fill(true);
      batch.ackAll();
    },
    retryAll: (o?: QueueRetryOptions) => batch.retryAll(o),
  } as unknown as MessageBatch<unknown>;
  return { batch: wrapped, acked };
}
