/**
 * Splits messages into groups that one Queue.sendBatch accepts: at most 100 messages and 256 KB
 * in total (kept under 200 KB for the encoding's overhead). A single event can be 120 KB
 * (MAX_EVENT_BYTES), so counting messages alone is not enough.
 */
export function sendBatches<T>(items: T[], body: (item: T) => unknown, limitBytes = 200 * 1024): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const n = JSON.stringify(body(item)).length;
    if (current.length && (bytes + n > limitBytes || current.length === 100)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += n;
  }
  if (current.length) batches.push(current);
  return batches;
}
