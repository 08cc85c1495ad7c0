import { describe, expect, it } from "vitest";
import { sendBatches } from "../src/lib/send-batches";

describe("sendBatches", () => {
  it("keeps every sendBatch within 100 messages and the byte budget, in order, losing nothing", () => {
    const small = Array.from({ length: 250 }, (_, i) => ({ i, pad: "x" }));
    const batches = sendBatches(small, (m) => m);
    expect(batches.map((b) => b.length)).toEqual([100, 100, 50]);
    const big = Array.from({ length: 7 }, (_, i) => ({ i, pad: "x".repeat(90 * 1024) }));
    const split = sendBatches(big, (m) => m);
    expect(split.every((b) => b.reduce((n, m) => n + JSON.stringify(m).length, 0) <= 200 * 1024)).toBe(true);
    expect(split.flat().map((m) => m.i)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});
