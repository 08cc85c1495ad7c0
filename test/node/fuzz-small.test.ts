import { describe, expect, it } from "vitest";
import { runFuzz } from "../fuzz/run";

// The fuzz suite in small (npm run fuzz sends 10,000 requests): a fixed seed, 300 generated
// webhook payloads, email API and operator requests against the real local stack, then the drain
// and the store checks. The three targets of issue 10, each 0.
describe("fuzz (short run on the real local stack)", () => {
  it("answers generated hostile input without 5xx, without effects of refused input, and stores no row its schema refuses", async () => {
    const log: string[] = [];
    const result = await runFuzz({
      runs: 300,
      seed: 7,
      concurrency: 4,
      shrinkSeconds: 3,
      maxShrinks: 4,
      drainTimeoutMs: 60_000,
      log: (l) => log.push(l),
    });
    const report = `${result.report}\n${log.join("\n")}`;

    // The run really exercised all three targets, accepted and refused.
    expect(result.byTarget).toEqual({ webhook: 100, email: 100, admin: 100 });
    const answered = Object.entries(result.statuses);
    expect(
      answered.filter(([s]) => s.startsWith("2")).reduce((n, [, v]) => n + v, 0),
      report,
    ).toBeGreaterThan(30);
    expect(result.refusedRequests, report).toBeGreaterThan(100);
    expect(result.rowsChecked.d1, report).toBeGreaterThan(11);
    expect(result.drained, report).toBe(true);

    // 1. No 5xx.
    expect(result.fiveXx, report).toBe(0);
    // 2. Refused input enqueued nothing, wrote nothing, and every stored row is explained by accepted input.
    expect(result.eventsEnqueuedForRefused, report).toBe(0);
    expect(result.d1RowsWrittenForRefused, report).toBe(0);
    expect(result.unattributedRows, report).toBe(0);
    // 3. Every row in both stores parses with its entity's schema; the stores' own constraints hold.
    expect(result.schemaBreakingRows, report).toBe(0);
    expect(result.schemaBreakingAtOnce, report).toBe(0);
    expect(result.constraintProblems, report).toEqual([]);
    expect(result.ok, report).toBe(true);
  }, 180_000);
});
