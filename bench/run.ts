/**
 * `npm run bench`: throughput, replication lag, backlog scaling, replay time, capture cost, a HubSpot
 * full sync and worker memory, measured on the real local stack (a scratch Postgres, `wrangler dev`
 * with local D1, Queues and Hyperdrive, the pg_net relay, the HubSpot stand-in). Separate from the
 * tests; asserts nothing about timings.
 *
 *   npm run bench                      full run (~10 min), writes bench/results.json and the
 *                                      generated part of bench/RESULTS.md
 *   npm run bench -- --quick           small sizes (~3 min), writes .wrangler/bench/results-quick.json
 *   npm run bench -- --phases throughput,lag   only some phases (throughput, lag, sweep, backlog, replay,
 *                                      capture, hubspot)
 *
 * It prints, and renders into the generated block, every figure of the phases it ran next to the
 * previous run's (the results file it is about to overwrite, kept as *.previous.json beside it),
 * with the change as a ratio, the published limits that apply (bench/anchors.ts) and the targets
 * checked (bench/targets.ts).
 *
 * Other flags: --rounds N, --lag-rates 100,1000, --lag-seconds S, --sweep-rate R, --sweep-seconds S,
 * --sweep-interval S, --sweep-grace S, --backlog 1000,10000,100000, --replay N,
 * --replay-rate R (events/s, default 1000), --capture-sizes 1000,10000, --capture-rate R (default 1000),
 * --capture-seconds S, --hubspot-contacts N (default 20,000; 3,000 with --quick), --out file.json,
 * --md file.md (or --md none); --render file.json rewrites the generated block of RESULTS.md from a
 * saved run without measuring (compared with --previous file.json, default: the *.previous.json
 * beside it).
 * Postgres: DATABASE_URL (a fresh database is created on it and dropped), else a throwaway
 * cluster from the local PostgreSQL binaries, with durable commits (see bench/postgres.ts).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { PROJECT_ROOT } from "../tools/local/wrangler";
import { backlogRun, type BacklogResult } from "./backlog";
import { captureRun } from "./capture";
import { anchorFootnotes, compareRuns, comparisonNotes, comparisonTable } from "./compare";
import { hubspotRun, startHubSpotBench } from "./hubspot";
import { catchUpSweep, queueLag, sweepLag, webhookLag, type LagResult } from "./lag";
import { machineInfo } from "./machine";
import { startMemorySampler, type MemoryReport } from "./memory";
import { replayRun, type ReplayResult } from "./replay";
import { renderMarkdown, spliceResults, type BenchResults } from "./report";
import { startBenchStack } from "./stack";
import { textTable } from "./tables";
import { targets, targetsTable } from "./targets";
import { ratios, runThroughput, type ThroughputResult } from "./throughput";

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    phases: { type: "string" },
    rounds: { type: "string" },
    "lag-rates": { type: "string" },
    "lag-seconds": { type: "string" },
    "sweep-rate": { type: "string" },
    "sweep-seconds": { type: "string" },
    "sweep-interval": { type: "string" },
    "sweep-grace": { type: "string" },
    backlog: { type: "string" },
    replay: { type: "string" },
    "replay-rate": { type: "string" },
    "capture-sizes": { type: "string" },
    "capture-rate": { type: "string" },
    "capture-seconds": { type: "string" },
    "hubspot-contacts": { type: "string" },
    previous: { type: "string" },
    out: { type: "string" },
    md: { type: "string" },
    render: { type: "string" },
  },
});

// --render results.json: rewrite the generated block of RESULTS.md from a saved run, no measuring.
if (flags.render) {
  const saved = JSON.parse(readFileSync(flags.render, "utf8")) as BenchResults;
  const target = flags.md ?? join(PROJECT_ROOT, "bench/RESULTS.md");
  const previous = readResults(flags.previous ?? previousPath(flags.render));
  writeFileSync(target, spliceResults(readFileSafe(target), renderMarkdown(saved, previous)));
  console.log(`rendered ${flags.render} into ${target}`);
  process.exit(0);
}

const quick = flags.quick;
const num = (v: string | undefined, full: number, small: number) =>
  v === undefined ? (quick ? small : full) : Number(v);
const list = (v: string | undefined, full: number[], small: number[]) =>
  v === undefined ? (quick ? small : full) : v.split(",").map(Number);
const options = {
  quick,
  phases: (flags.phases ?? "throughput,lag,sweep,backlog,replay,capture,hubspot").split(","),
  rounds: num(flags.rounds, 10, 3),
  lagRates: list(flags["lag-rates"], [100, 1000], [100, 1000]),
  lagSeconds: num(flags["lag-seconds"], 10, 6),
  sweepRate: num(flags["sweep-rate"], 100, 100),
  sweepSeconds: num(flags["sweep-seconds"], 60, 10),
  sweepInterval: num(flags["sweep-interval"], 60, 5),
  sweepGrace: num(flags["sweep-grace"], 30, 2),
  backlog: list(flags.backlog, [1000, 10000, 100000], [1000, 10000]),
  replay: num(flags.replay, 10000, 1000),
  replayRate: num(flags["replay-rate"], 1000, 1),
  captureSizes: list(flags["capture-sizes"], [1000, 10000], [1000, 10000]),
  // 1,000/s: the rate issue 14 asks about (earlier runs measured 100/s); --quick keeps 100.
  captureRate: num(flags["capture-rate"], 1000, 100),
  captureSeconds: num(flags["capture-seconds"], 10, 5),
  hubspotContacts: num(flags["hubspot-contacts"], 20_000, 3_000),
};
const out =
  flags.out ??
  (quick ? join(PROJECT_ROOT, ".wrangler/bench/results-quick.json") : join(PROJECT_ROOT, "bench/results.json"));
const md = flags.md ?? (quick ? "none" : join(PROJECT_ROOT, "bench/RESULTS.md"));
// The run this one replaces, read before anything is overwritten: the figures are printed next to it.
const previous = readResults(out);

const t0 = Date.now();
const log = (line: string) => console.log(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${line}`);
const has = (phase: string) => options.phases.includes(phase);

const machine = machineInfo();
log(
  `machine: ${machine.cpu}, ${machine.memoryGiB} GiB, load ${machine.loadAverageAtStart.join(" ")}; options ${JSON.stringify(options)}`,
);
// The HubSpot stand-in starts first: the worker is started pointing at it.
const hubspot = has("hubspot") ? await startHubSpotBench(options.hubspotContacts) : undefined;
const stack = await startBenchStack(log, { vars: hubspot?.vars }).catch(async (error: unknown) => {
  await hubspot?.standIn.stop();
  throw error;
});
const memory = startMemorySampler(stack.port);
let memoryReport: MemoryReport | undefined;
const results: Partial<BenchResults> = {};
try {
  const [owner] = await stack.sql`insert into prospects (name) values ('bench: owner of the email rows') returning id`;
  const [pg] = await stack.sql`select current_setting('server_version') as v, current_setting('fsync') as fsync,
                                      current_setting('synchronous_commit') as sc`;
  results.postgres =
    `PostgreSQL ${String(pg!.v)} (${process.env.DATABASE_URL ? "DATABASE_URL" : "throwaway cluster"}; ` +
    `fsync ${String(pg!.fsync)}, synchronous_commit ${String(pg!.sc)})`;

  if (has("throughput")) {
    memory.phase("throughput");
    log(`throughput: ${options.rounds} rounds (+1 warm-up), batch sizes 10 and 100, D1 and Postgres`);
    const throughput: ThroughputResult = await runThroughput(stack, {
      rounds: options.rounds,
      batchSizes: [10, 100],
      perRowRows: 50,
      // Postgres at batch 10: 10 batches per round, because the consumer opens a connection per
      // batch and they stay open until the request ends (4 such variants: ~40 connections).
      fastRows: (store, batch) => (store === "supabase" && batch < 100 ? 100 : 300),
      owner: String(owner!.id),
      log,
    });
    results.throughput = { variants: throughput, ratios: ratios(throughput) };
  }

  if (has("lag")) {
    await stack.installWebhooks();
    stack.startRelay();
    results.webhookLag = [];
    for (const rate of options.lagRates) {
      memory.phase(`lag-webhook-${rate}`);
      const r: LagResult = await webhookLag(stack, { rate, seconds: options.lagSeconds, log });
      log(
        `lag (webhook, ${rate}/s): p50 ${r.lagMs.p50} ms, p95 ${r.lagMs.p95} ms, p99 ${r.lagMs.p99} ms; ${r.notVisible} not visible`,
      );
      results.webhookLag.push(r);
    }
    // Profiling: the same rates without the webhook hop (one HTTP request per change).
    for (const rate of options.lagRates) {
      memory.phase(`lag-queue-${rate}`);
      const r: LagResult = await queueLag(stack, { rate, seconds: options.lagSeconds, log });
      log(
        `lag (queue only, ${rate}/s): p50 ${r.lagMs.p50} ms, p95 ${r.lagMs.p95} ms, p99 ${r.lagMs.p99} ms; ${r.notVisible} not visible`,
      );
      results.webhookLag.push(r);
    }
  }
  await stack.stopRelay();
  await stack.dropWebhooks();

  if (has("sweep") || has("backlog")) {
    const c = await catchUpSweep(stack);
    log(`sweep cursor caught up (${c.runs} run(s), ${c.scanned} entries scanned, ${c.republished} republished)`);
  }
  if (has("sweep")) {
    memory.phase("lag-sweep");
    const r = await sweepLag(stack, {
      rate: options.sweepRate,
      seconds: options.sweepSeconds,
      graceSeconds: options.sweepGrace,
      intervalSeconds: options.sweepInterval,
      log,
    });
    log(
      `lag (sweep path): p50 ${r.lagMs.p50} ms, p95 ${r.lagMs.p95} ms, p99 ${r.lagMs.p99} ms; ${r.notVisible} not visible`,
    );
    results.sweepLag = r;
  }

  if (has("backlog")) {
    results.backlog = [];
    for (const events of options.backlog) {
      memory.phase(`backlog-${events}`);
      const r: BacklogResult = await backlogRun(stack, { events, log, memory: memory.current, timeoutSeconds: 600 });
      results.backlog.push(r);
    }
  }

  if (has("replay")) {
    memory.phase("replay");
    const r: ReplayResult = await replayRun(stack, {
      tasks: options.replay,
      rate: options.replayRate,
      log,
      timeoutSeconds: 600,
      memory: memory.current,
    });
    results.replay = r;
  }

  if (has("capture")) {
    memory.phase("capture");
    log(
      `capture: bulk UPDATE of ${options.captureSizes.join(", ")} rows and single-row load at ${options.captureRate}/s, row-level vs statement-level`,
    );
    results.capture = await captureRun(stack, {
      sizes: options.captureSizes,
      modes: ["row", "statement"],
      singleRate: options.captureRate,
      singleSeconds: options.captureSeconds,
      pids: { workerd: memory.report.workerdPid, wrangler: memory.report.wranglerPid },
      log,
    });
  }
  if (hubspot) {
    memory.phase("hubspot");
    log(`hubspot: full sync of ${options.hubspotContacts} contacts from the stand-in (100 requests / 10 s enforced)`);
    const r = await hubspotRun(stack, hubspot.standIn, {
      contacts: options.hubspotContacts,
      log,
      timeoutSeconds: 900,
    });
    log(
      `hubspot: ${r.contactsPerSecond} contacts/s (${r.fractionOfCeiling} of ${r.ceilingContactsPerSecond}), ${r.requests} requests, ` +
        `peak ${r.peakIn10s} in 10 s, ${r.throttled429} 429s`,
    );
    results.hubspot = r;
  }
  memory.phase("end");
} catch (error) {
  log(`failed: ${(error as Error).stack ?? String(error)}`);
  log(`last lines of wrangler dev:\n${stack.wranglerTail().slice(-40).join("\n")}`);
  process.exitCode = 1;
} finally {
  memoryReport = memory.stop();
  await stack.stop();
  await hubspot?.standIn.stop();
}

const full: BenchResults = {
  startedAt: new Date(t0).toISOString(),
  durationSeconds: Math.round((Date.now() - t0) / 1000),
  command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
  options,
  machine: { ...machine, loadAverageAtEnd: loadavg().map((l) => Math.round(l * 100) / 100) },
  memory: memoryReport!,
  ...results,
};
mkdirSync(dirname(out), { recursive: true });
if (previous) writeFileSync(previousPath(out), `${JSON.stringify(previous, null, 2)}\n`);
writeFileSync(out, `${JSON.stringify(full, null, 2)}\n`);
log(`results: ${out}${previous ? ` (the run it replaced: ${previousPath(out)})` : ""}`);
const table = renderMarkdown(full, previous);
if (md !== "none" && process.exitCode !== 1) {
  writeFileSync(md, spliceResults(readFileSafe(md), table));
  log(`table: ${md}`);
} else {
  console.log(`\n${table}`);
}
// The summary on the terminal: every figure of the phases run against the previous run, the targets.
const comparison = compareRuns(full, previous);
console.log(["", ...comparisonNotes(comparison), "", ...textTable(comparisonTable(comparison))].join("\n"));
const checked = targets(full).length ? textTable(targetsTable(full)) : ["No target is decided by the phases run."];
console.log(["", ...anchorFootnotes(), "", ...checked].join("\n"));

/** results.json → results.previous.json: where the run a new one replaced is kept. */
function previousPath(path: string): string {
  return path.replace(/(\.json)?$/, ".previous.json");
}

function readResults(path: string): BenchResults | undefined {
  return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as BenchResults) : undefined;
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
