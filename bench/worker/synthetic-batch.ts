/** A queue batch as the runtime hands it to the consumer; counts acks and retries. */
export function syntheticBatch(queue: string, bodies: unknown[]) {
  const counts = { acked: 0, retried: 0 };
  const now = new Date();
  const messages = bodies.map((body, i) => ({
    id: `bench-${i}-${Math.random().toString(36).slice(2)}`,
    timestamp: now,
    body,
    attempts: 1,
    ack: () => void counts.acked++,
    retry: () => void counts.retried++,
  }));
  const batch = {
    queue,
    metadata: { metrics: { backlogCount: 0, backlogBytes: 0, oldestMessageTimestamp: now } },
    messages,
    ackAll: () => void (counts.acked += messages.length),
    retryAll: () => void (counts.retried += messages.length),
  } as unknown as MessageBatch<unknown>;
  return { batch, counts };
}
