/**
 * `npx tsx bench/profile-backlog.ts [--sizes 1000,10000,100000] [--reps 20] [--out file.json]`:
 * why the backlog's rate changes with N (bench/backlog.ts, run here unchanged, in the same order
 * as `npm run bench`, so the replica grows across sizes). Per size, on the bench's own stack:
 *
 * - the CPU of every process per event and how busy the machine was (bench/memory.ts's sampler),
 *   and how long workerd's threads waited for a CPU: load shows as waiting, not as running;
 * - a CPU profile of the worker's isolate over the whole drain (Chrome DevTools Protocol through
 *   wrangler's inspector port): where the worker's own JavaScript spends its time;
 * - afterwards, at that replica size: the to-d1 consumer's D1 work and the sweep's D1 read, each
 *   interleaved with a trivial write transaction as the size-independent reference
 *   (bench/worker/d1-scale.ts);
 * - `EXPLAIN (ANALYZE, BUFFERS)` of the sweep's page query (sync_changes_after's body) from the
 *   start of this size's entries, and the function's own time, at the change log's size then.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { backlogRun, type BacklogResult } from "./backlog";
import { startMemorySampler } from "./memory";
import { startBenchStack } from "./stack";
import { median, round } from "./stats";

const { values: flags } = parseArgs({
  options: { sizes: { type: "string" }, reps: { type: "string" }, out: { type: "string" } },
});
const SIZES = (flags.sizes ?? "1000,10000,100000").split(",").map(Number);
const REPS = Number(flags.reps ?? 20);
const OUT = flags.out ?? "/tmp/profile-backlog.json";

interface Socket {
  on(event: "message", fn: (data: Buffer) => void): void;
  on(event: "open" | "close", fn: () => void): void;
  on(event: "error", fn: (e: Error) => void): void;
  send(text: string): void;
  close(): void;
}
// wrangler's own dependency; Node 20 has no WebSocket client without a flag.
const WebSocket = createRequire(import.meta.url)("ws") as new (url: string) => Socket;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A Chrome DevTools Protocol session on the first target of an inspector port. */
async function devtools(port: number) {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as Array<{
    webSocketDebuggerUrl: string;
  }>;
  const socket = new WebSocket(targets[0]!.webSocketDebuggerUrl);
  await new Promise<void>((resolve, reject) => {
    socket.on("open", resolve);
    socket.on("error", reject);
  });
  let next = 1;
  const waiting = new Map<number, (r: { result?: unknown; error?: unknown }) => void>();
  socket.on("message", (data) => {
    const msg = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: unknown };
    if (msg.id !== undefined) waiting.get(msg.id)?.(msg);
  });
  return {
    async send<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
      const id = next++;
      const answer = await new Promise<{ result?: unknown; error?: unknown }>((resolve) => {
        waiting.set(id, resolve);
        socket.send(JSON.stringify({ id, method, params }));
      });
      if (answer.error) throw new Error(`${method}: ${JSON.stringify(answer.error)}`);
      return answer.result as T;
    },
    close: () => socket.close(),
  };
}

/** Self time per function (ms), busiest first, and the total the isolate was not idle. */
function selfTimes(profile: CpuProfile, top = 15) {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const f = byNode.get(id)!.callFrame;
    const key = `${f.functionName || "(anonymous)"} ${f.url ? `${basename(f.url)}:${f.lineNumber + 1}` : ""}`.trim();
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    self.set(key, (self.get(key) ?? 0) + ms);
    total += ms;
  });
  const busy = total - (self.get("(idle)") ?? 0);
  const ranked = [...self].filter(([k]) => k !== "(idle)").sort((a, b) => b[1] - a[1]);
  return { sampledMs: round(total), busyMs: round(busy), top: ranked.slice(0, top).map(([k, v]) => [k, round(v)]) };
}

const inspectorPortOf = (pid: number) =>
  Number(/--inspector-port\0(\d+)/.exec(readFileSync(`/proc/${pid}/cmdline`, "utf8"))?.[1]);

const log = (line: string) => console.log(`[profile-backlog] ${line}`);
const stack = await startBenchStack(log);
const memory = startMemorySampler(stack.port);
const report: Array<Record<string, unknown>> = [];
try {
  if (memory.report.wranglerPid === null) throw new Error("wrangler's process not found");
  const session = await devtools(inspectorPortOf(memory.report.wranglerPid));
  await session.send("Profiler.enable");
  await session.send("Profiler.setSamplingInterval", { interval: 500 });
  for (const [i, events] of SIZES.entries()) {
    memory.phase(`backlog-${events}`);
    await session.send("Profiler.start");
    const backlog: BacklogResult = await backlogRun(stack, {
      events,
      log,
      memory: memory.current,
      timeoutSeconds: 900,
    });
    const { profile } = await session.send<{ profile: CpuProfile }>("Profiler.stop");
    memory.phase(`after-${events}`);
    const cpu = selfTimes(profile);

    // The sweep's page query from the first entry of this size, at the change log's size now.
    const tag = `backlog-${events}`;
    const [first] = await stack.sql`select txid::text as txid, seq from sync.change_log
      where row_image->>'lead_source' = ${tag} order by txid, seq limit 1`;
    const [logRows] = await stack.sql`select count(*)::int as n from sync.change_log`;
    const pageSql = `with horizon as (select pg_snapshot_xmin(pg_current_snapshot()) as xmin)
      select jsonb_build_object('horizon', (select xmin::text from horizon), 'now', now(), 'entries', coalesce((
        select jsonb_agg(jsonb_build_object('txid', c.txid::text, 'seq', c.seq, 'entity', c.entity, 'row_id', c.row_id,
               'op', c.op, 'version', c.version, 'row', c.row_image, 'recorded_at', c.recorded_at) order by c.txid, c.seq)
          from (select l.* from sync.change_log l, horizon h
                 where (l.txid, l.seq) > ('${first!.txid}'::xid8, ${Number(first!.seq) - 1}) and l.txid < h.xmin
                 order by l.txid, l.seq limit 500) c), '[]'::jsonb))`;
    const plans: string[][] = [];
    for (let k = 0; k < 3; k++)
      plans.push(
        ((await stack.sql.unsafe(`explain (analyze, buffers) ${pageSql}`)) as Array<Record<string, string>>).map(
          (r) => r["QUERY PLAN"]!,
        ),
      );
    const callMs: number[] = [];
    for (let k = 0; k < 7; k++) {
      const started = performance.now();
      await stack.sql`select public.sync_changes_after(${first!.txid}, ${Number(first!.seq) - 1}, 500)`;
      callMs.push(performance.now() - started);
    }
    const scale = await stack.bench<{ replicaRows: number; ms: Record<string, number[]> }>("d1-scale", {
      pool: 0x7d000000 + i * 0x10000,
      reps: REPS,
    });
    const entry = {
      events,
      backlog,
      workerIsolateCpu: { ...cpu, busyMsPerEvent: round(cpu.busyMs / events, 4) },
      sweepQuery: {
        changeLogRows: logRows!.n,
        explainLast: plans.at(-1),
        callMsMedian: round(median(callMs), 2),
      },
      d1AtSize: {
        replicaRows: scale.replicaRows,
        medianMs: Object.fromEntries(Object.entries(scale.ms).map(([k, v]) => [k, round(median(v), 2)])),
      },
    };
    report.push(entry);
    log(
      `${events}: ${backlog.eventsPerSecond} events/s; worker isolate busy ${entry.workerIsolateCpu.busyMsPerEvent} ms/event; ` +
        `sweep page ${entry.sweepQuery.callMsMedian} ms at ${logRows!.n} log rows; D1 at ${scale.replicaRows} rows ${JSON.stringify(entry.d1AtSize.medianMs)}`,
    );
  }
  session.close();
} finally {
  const mem = memory.stop();
  await stack.stop();
  writeFileSync(OUT, `${JSON.stringify({ sizes: SIZES, reps: REPS, cpuByPhase: mem.cpuByPhase, report }, null, 2)}\n`);
  log(`written ${OUT}`);
}
