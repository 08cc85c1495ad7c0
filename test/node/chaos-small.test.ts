import { describe, expect, it } from "vitest";
import { runChaos } from "../chaos/run";

// The chaos suite in small (npm run chaos runs 20,000 operations): every fault enabled, a short
// Supabase outage, then the stores must agree row by row.
describe("chaos (small run on the real local stack)", () => {
  it("loses, corrupts and resurrects nothing under dropped, duplicated and reordered webhooks, crashes, D1 errors and an outage", async () => {
    const log: string[] = [];
    const result = await runChaos({
      seed: 7,
      ops: 600,
      writers: 4,
      timeoutSeconds: 240,
      outageMs: 3000,
      log: (l) => log.push(l),
    });
    expect(result.line, log.join("\n")).toMatch(/lost=0 mismatched=0 resurrected=0/);
    expect(result.ok).toBe(true);
    expect(result.events).toBeGreaterThan(600);
    for (const t of result.failedTasks) expect(t.error_code && t.error_message).toBeTruthy();
  });
});
