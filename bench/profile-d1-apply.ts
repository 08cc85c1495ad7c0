/**
 * `npx tsx bench/profile-d1-apply.ts [--reps 30]`: the D1 store call before and after RETURNING
 * (core/stores/d1-replica.ts) on batches of 100 that the upsert writes entirely, half or not at
 * all (bench/worker/d1-apply-cases.ts), inside workerd on the bench's stack. Prints ms per call
 * (median and mean) per case and apply.
 */
import { parseArgs } from "node:util";
import { loadavg } from "node:os";
import { startBenchStack } from "./stack";
import { median, round } from "./stats";

const { values: flags } = parseArgs({ options: { reps: { type: "string" } } });
const log = (line: string) => console.log(`[profile-d1-apply] ${line}`);
const stack = await startBenchStack(log);
try {
  log(
    `load average ${loadavg()
      .map((l) => round(l, 2))
      .join(" / ")}`,
  );
  const ms = await stack.bench<Record<string, number[]>>("d1-apply-cases", {
    pool: 0x7e000000,
    reps: Number(flags.reps ?? 30),
  });
  for (const [name, v] of Object.entries(ms))
    log(
      `${name.padEnd(24)} median ${round(median(v), 2)} ms, mean ${round(v.reduce((a, b) => a + b, 0) / v.length, 2)} ms (n ${v.length})`,
    );
  log(
    `load average ${loadavg()
      .map((l) => round(l, 2))
      .join(" / ")}`,
  );
} finally {
  await stack.stop();
}
