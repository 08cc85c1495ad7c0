/**
 * `npx tsx bench/profile-webhooks.ts [--n 2000] [--http 4000] [--concurrency 32]`: what one
 * webhook costs the local worker. Starts the bench stack (as `npm run bench`), then
 *  1. inside workerd, per piece of the route (bench/worker/webhook-cost.ts), µs per webhook;
 *  2. over HTTP, as the pg_net relay delivers them: --http POSTs with --concurrency in flight,
 *     webhooks/s and the CPU workerd and wrangler's Node process used per webhook.
 */
import { parseArgs } from "node:util";
import { startMemorySampler } from "./memory";
import { poolIds, prospectRow } from "./worker/rows";
import { BENCH_SECRETS, startBenchStack } from "./stack";

const { values: flags } = parseArgs({
  options: { n: { type: "string" }, http: { type: "string" }, concurrency: { type: "string" } },
});
const n = Number(flags.n ?? 2000);
const total = Number(flags.http ?? 4000);
const concurrency = Number(flags.concurrency ?? 32);
const log = (line: string) => console.log(`[profile] ${line}`);

const stack = await startBenchStack(log);
try {
  // Warm-up, then the in-process breakdown.
  await stack.bench("webhook-cost", { n: 200 });
  const cost = await stack.bench<{ n: number; usPerWebhook: Record<string, number> }>("webhook-cost", { n });
  log(`inside workerd, ${cost.n} webhooks, µs per webhook:`);
  for (const [piece, us] of Object.entries(cost.usPerWebhook)) log(`  ${String(us).padStart(6)}  ${piece}`);

  const ids = poolIds(0xc1 * 0x100000, total);
  const bodies = ids.map((id, i) =>
    JSON.stringify({
      type: "INSERT",
      table: "prospects",
      schema: "public",
      record: { ...prospectRow(id, i, 1), updated_at: "2025-03-01 09:00:01.5+00" },
      old_record: null,
    }),
  );
  const post = async (body: string) => {
    const r = await fetch(`${stack.workerUrl}/webhooks/supabase`, {
      method: "POST",
      headers: { authorization: `Bearer ${BENCH_SECRETS.WEBHOOK_SECRET}`, "content-type": "application/json" },
      body,
    });
    await r.arrayBuffer();
    return r.status;
  };
  for (const b of bodies.slice(0, 200)) await post(b); // warm-up (these rows are written again below)
  const memory = startMemorySampler(stack.port);
  memory.phase("http");
  const started = performance.now();
  let next = 0;
  const statuses = new Map<number, number>();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const status = await post(bodies[next++]!);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  memory.phase("end");
  const report = memory.stop();
  const cpu = report.cpuByPhase.http!;
  log(
    `over HTTP: ${total} webhooks, ${concurrency} in flight: ${Math.round(total / seconds)}/s; statuses ${JSON.stringify(Object.fromEntries(statuses))}; ` +
      `CPU per webhook: workerd ${((cpu.workerd * seconds * 1000) / total).toFixed(2)} ms, wrangler (Node) ${((cpu.wrangler * seconds * 1000) / total).toFixed(2)} ms, ` +
      `this runner ${((cpu.benchRunner * seconds * 1000) / total).toFixed(2)} ms; workerd waited for a CPU ${cpu.workerdWaitingForCpu} cores; machine ${cpu.machine} cores busy`,
  );
} finally {
  await stack.stop();
}
