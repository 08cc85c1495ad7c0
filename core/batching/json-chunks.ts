/**
 * D1 refuses a bound string longer than 2,000,000 bytes (SQLITE_TOOBIG), and the apply and repair
 * statements bind a whole page as one JSON array. Counting rows is not enough: a page of rows with
 * long multi-byte text can pass the limit at a few hundred rows. So a list is cut into chunks
 * whose JSON text, measured in UTF-8 bytes as D1 measures it, stays under the limit. An item
 * larger than the limit on its own gets a chunk of its own; the store then refuses that item
 * alone, which the callers isolate and report as one bad row.
 */
export const D1_MAX_BOUND_BYTES = 2_000_000;

const encoder = new TextEncoder();

export function utf8Bytes(text: string): number {
  return encoder.encode(text).length;
}

/** Chunks of `items`, in order, each serialising (as a JSON array) to at most `limitBytes`. */
export function jsonChunks<T>(items: readonly T[], limitBytes = D1_MAX_BOUND_BYTES): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 2; // "[" and "]"
  for (const item of items) {
    const n = utf8Bytes(JSON.stringify(item));
    // Each item after the first costs its comma too.
    if (current.length && bytes + 1 + n > limitBytes) {
      chunks.push(current);
      current = [];
      bytes = 2;
    }
    bytes += (current.length ? 1 : 0) + n;
    current.push(item);
  }
  if (current.length) chunks.push(current);
  return chunks;
}
