import { describe, expect, it } from "vitest";
import { MAX_EVENT_BYTES } from "../schemas/event";
import { MAX_BATCH_BYTES, sendBatches } from "../core/batching/send-batches";

describe("sendBatches", () => {
  it("keeps every sendBatch within 100 messages and the byte budget, in order, losing nothing", () => {
    const small = Array.from({ length: 250 }, (_, i) => ({ i, pad: "x" }));
    const batches = sendBatches(small, (m) => m);
    expect(batches.map((b) => b.length)).toEqual([100, 100, 50]);
    const big = Array.from({ length: 7 }, (_, i) => ({ i, pad: "x".repeat(90 * 1024) }));
    const split = sendBatches(big, (m) => m);
    expect(
      split.every(
        (b) => b.reduce((n, m) => n + new TextEncoder().encode(JSON.stringify(m)).byteLength, 0) <= MAX_BATCH_BYTES,
      ),
    ).toBe(true);
    expect(split.flat().map((m) => m.i)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it("sizes in UTF-8 bytes: three valid ~119 KB Japanese events (357 KB, but only 118,500 UTF-16 characters) never share a sendBatch", () => {
    const event = (i: number) => ({ i, row: { website: "日".repeat(39_500) } }); // 118,500 bytes of text each
    const bytes = (m: unknown) => new TextEncoder().encode(JSON.stringify(m)).byteLength;
    const events = [0, 1, 2].map(event);
    expect(events.every((e) => bytes(e) > 118_000 && bytes(e) <= MAX_EVENT_BYTES)).toBe(true);
    const batches = sendBatches(events, (m) => m);
    expect(batches.map((b) => b.map((m) => m.i))).toEqual([[0], [1], [2]]);
    // Small multi-byte messages still share batches, up to the byte budget.
    const small = Array.from({ length: 60 }, (_, i) => ({ i, text: "я".repeat(3_000) })); // ~6 KB each
    const packed = sendBatches(small, (m) => m);
    expect(packed.length).toBeGreaterThan(1);
    expect(packed.every((b) => b.reduce((n, m) => n + bytes(m), 0) <= MAX_BATCH_BYTES)).toBe(true);
    expect(packed.flat().map((m) => m.i)).toEqual(small.map((m) => m.i));
  });
});
