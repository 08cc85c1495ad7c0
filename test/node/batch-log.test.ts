import { describe, expect, it } from "vitest";
import { sampledBatchLog, type BatchSummary } from "../../consumers/batch-log";

const quiet = (n: number): BatchSummary => ({
  queue: "to-d1",
  messages: n,
  applied: n,
  stale: 0,
  retried: 0,
  deadLettered: 0,
});

describe("sampledBatchLog", () => {
  it("writes the first quiet batch, then one summed line per interval, and every troubled batch at once", () => {
    let now = 0;
    const lines: Array<Record<string, unknown>> = [];
    const log = sampledBatchLog(
      60_000,
      () => now,
      (line) => lines.push(JSON.parse(line)),
    );

    log.record(quiet(100));
    expect(lines).toEqual([{ msg: "batch consumed", ...quiet(100) }]);

    for (let i = 0; i < 5; i++) {
      now += 10_000;
      log.record(quiet(100));
    }
    expect(lines).toHaveLength(1); // 50 s: still summing

    const troubled = { ...quiet(100), applied: 97, retried: 2, deadLettered: 1 };
    log.record(troubled);
    expect(lines[1]).toEqual({ msg: "batch consumed", ...troubled });

    now += 10_000;
    log.record(quiet(40));
    expect(lines[2]).toEqual({
      msg: "batches consumed",
      ms: 60_000,
      queue: "to-d1",
      batches: 6,
      messages: 540,
      applied: 540,
      stale: 0,
      retried: 0,
      deadLettered: 0,
    });
  });

  it("sums each queue apart", () => {
    let now = 0;
    const lines: Array<Record<string, unknown>> = [];
    const log = sampledBatchLog(
      1_000,
      () => now,
      (line) => lines.push(JSON.parse(line)),
    );
    log.record(quiet(1));
    log.record({ ...quiet(2), queue: "to-supabase" });
    now = 1_000;
    log.record(quiet(3));
    log.record({ ...quiet(4), queue: "to-supabase" });
    expect(lines.map((l) => [l.msg, l.queue, l.messages])).toEqual([
      ["batch consumed", "to-d1", 1],
      ["batch consumed", "to-supabase", 2],
      ["batches consumed", "to-d1", 3],
      ["batches consumed", "to-supabase", 4],
    ]);
  });
});
