import { utf8Bytes } from "./json-chunks";

/** Cloudflare Queues: at most 100 messages per sendBatch. */
export const MAX_BATCH_MESSAGES = 100;
/**
 * Cloudflare Queues refuses a sendBatch over 256 KB in total. The budget is counted in UTF-8
 * bytes of each body's JSON (what the queue stores for contentType "json") and kept at 200 KiB,
 * leaving room for the per-message envelope the platform adds.
 */
export const MAX_BATCH_BYTES = 200 * 1024;

/**
 * Size of a message body as the queue counts it: UTF-8 bytes, not UTF-16 code units. The two
 * differ up to threefold (Japanese text is 3 bytes per character): `JSON.stringify(x).length`
 * counted three valid 119 KB Japanese events as 120,000 and sent them as one 357 KB sendBatch.
 */
export function jsonBytes(body: unknown): number {
  return utf8Bytes(JSON.stringify(body));
}

/**
 * Splits messages into groups that one Queue.sendBatch accepts: at most 100 messages and
 * `limitBytes` in total. A single event can be 120 KiB (MAX_EVENT_BYTES), so counting messages
 * alone is not enough. A message larger than the budget on its own still gets a group of its
 * own (the queue judges it; callers check single messages before they get here).
 */
export function sendBatches<T>(items: T[], body: (item: T) => unknown, limitBytes = MAX_BATCH_BYTES): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const n = jsonBytes(body(item));
    if (current.length && (bytes + n > limitBytes || current.length === MAX_BATCH_MESSAGES)) {
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
