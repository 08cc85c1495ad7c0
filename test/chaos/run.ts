/**
 * `npm run chaos`: drives the real local stack (Postgres, wrangler dev with local D1 and Queues,
 * the pg_net relay) with concurrent writers while injecting faults, lets the sweeps run to
 * quiescence and compares both stores row by row. One summary line per seed; exit 1 if anything
 * was lost, mismatched or resurrected, or a failed task has no reason.
 *
 *   npm run chaos -- [--seeds 1,2,3] [--ops 20000] [--writers 8] [--timeout 900]
 *
 * Faults: webhooks dropped (15 %), duplicated (10 %) and delayed/reordered (20 %, up to 3 s);
 * consumers crashing after commit before ack (3 % of batches); transient D1 errors (3 % of
 * consumer writes); two Supabase outages (8 s each) during the writes. The operation mix is
 * reproducible from the seed; fault timing depends on scheduling, as it does in production.
 */
import { parseArgs } from "node:util";
import { startChaosStack } from "./chaos-stack";
import { compareStores, type Divergence } from "./compare";
import { seededRandom } from "./rng";
import { runWorkload } from "./workload";

const { values } = parseArgs({
  options: {
    seeds: { type: "string", default: "1" },
    ops: { type: "string", default: "20000" },
    writers: { type: "string", default: "8" },
    timeout: { type: "string", default: "900" },
  },
});

export interface ChaosResult {
  seed: number;
  ops: number;
  events: number;
  lost: number;
  mismatched: number;
  resurrected: number;
  failedTasks: Array<{ error_code: string; error_message: string; count: number }>;
  ok: boolean;
  line: string;
}

export async function runChaos(opts: {
  seed: number;
  ops: number;
  writers: number;
  timeoutSeconds: number;
  outageMs?: number;
  log: (l: string) => void;
}): Promise<ChaosResult> {
  const outageMs = opts.outageMs ?? 8000;
  const { seed, log } = opts;
  const started = Date.now();
  const stack = await startChaosStack({
    relayFaults: {
      dropRate: 0.15,
      duplicateRate: 0.1,
      delayRate: 0.2,
      maxDelayMs: 3000,
      random: seededRandom(seed ^ 0x5eed),
    },
    worker: { d1ErrorRate: 0.03, crashRate: 0.03 },
    log,
  });
  try {
    const outages: Promise<void>[] = [];
    let nextMark = 0.25;
    const stats = await runWorkload({
      sql: stack.apiSql,
      workerUrl: stack.workerUrl,
      seed,
      ops: opts.ops,
      writers: opts.writers,
      progress: (done) => {
        const share = done / opts.ops;
        if (share >= nextMark) {
          log(`seed ${seed}: ${done}/${opts.ops} operations`);
          if (nextMark === 0.25 || nextMark === 0.75) {
            log(`seed ${seed}: Supabase outage for ${outageMs / 1000} s`);
            outages.push(stack.outage(outageMs));
          }
          nextMark += 0.25;
        }
      },
    });
    await Promise.all(outages);
    log(
      `seed ${seed}: writes done in ${Math.round((Date.now() - started) / 1000)} s (${JSON.stringify(stats.byKind)}); waiting for quiescence`,
    );

    // Quiescence: sweeps keep running (as the cron would) until the stores agree twice in a row.
    const deadline = Date.now() + opts.timeoutSeconds * 1000;
    let divergences: Divergence[] = [];
    let clean = 0;
    while (Date.now() < deadline && clean < 2) {
      await stack.fireCron();
      await new Promise((r) => setTimeout(r, 3000));
      divergences = (await compareStores(stack)).divergences;
      clean = divergences.length === 0 ? clean + 1 : 0;
      if (divergences.length) log(`seed ${seed}: ${divergences.length} rows still differ (${summarise(divergences)})`);
    }
    const rowsChecked = (await compareStores(stack)).rows;
    const failedTasks = await stack.d1.query<{ error_code: string; error_message: string; count: number }>(
      "SELECT error_code, error_message, count(*) AS count FROM failed_tasks GROUP BY error_code, error_message ORDER BY count DESC",
    );
    const [events] = await stack.d1.query<{ n: number }>(
      "SELECT coalesce(sum(applied_total + stale_total + failed_total), 0) AS n FROM sync_entity_state",
    );
    const count = (k: Divergence["kind"]) => divergences.filter((d) => d.kind === k).length;
    const unexplained = failedTasks.filter((t) => !t.error_code || !t.error_message).length;
    const r = stack.relay.stats;
    const result = {
      seed,
      ops: stats.ops,
      events: events?.n ?? 0,
      lost: count("lost"),
      mismatched: count("mismatched"),
      resurrected: count("resurrected"),
      failedTasks,
    };
    const ok = result.lost + result.mismatched + result.resurrected === 0 && unexplained === 0;
    const tasks = failedTasks.reduce((n, t) => n + t.count, 0);
    const line =
      `chaos seed=${seed} operations=${result.ops} events=${result.events} rows=${rowsChecked} lost=${result.lost} ` +
      `mismatched=${result.mismatched} resurrected=${result.resurrected} failed_tasks=${tasks}` +
      (tasks
        ? ` (${failedTasks.map((t) => `${t.count}× ${t.error_code}: ${t.error_message.slice(0, 120)}`).join("; ")})`
        : "") +
      ` webhooks_sent=${r.sent} dropped=${r.dropped} duplicated=${r.duplicated} delayed=${r.delayed} ` +
      `rejected_writes=${stats.rejected} rolled_back=${stats.rolledBack} seconds=${Math.round((Date.now() - started) / 1000)}` +
      (ok ? "" : ` FAILED: ${summarise(divergences)}`);
    if (!ok) log(`wrangler output (last lines):\n${stack.wranglerTail().slice(-40).join("\n")}`);
    return { ...result, ok, line };
  } catch (error) {
    log(`wrangler output (last lines):\n${stack.wranglerTail().slice(-40).join("\n")}`);
    throw error;
  } finally {
    await stack.stop();
  }
}

function summarise(d: Divergence[]): string {
  const byKind = new Map<string, number>();
  for (const x of d) byKind.set(`${x.kind}:${x.entity}`, (byKind.get(`${x.kind}:${x.entity}`) ?? 0) + 1);
  const first = d[0];
  return `${[...byKind].map(([k, n]) => `${k}=${n}`).join(" ")}${first ? `; e.g. ${first.kind} ${first.entity} ${first.id}${first.detail ? ` ${first.detail.slice(0, 300)}` : ""}` : ""}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let failed = false;
  for (const seed of values.seeds!.split(",").map(Number)) {
    const result = await runChaos({
      seed,
      ops: Number(values.ops),
      writers: Number(values.writers),
      timeoutSeconds: Number(values.timeout),
      log: (l) => console.error(`[chaos] ${l}`),
    });
    console.log(result.line);
    failed ||= !result.ok;
  }
  process.exit(failed ? 1 : 0);
}
