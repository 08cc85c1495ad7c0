import type { BenchStack } from "./stack";
import { BENCH_SECRETS } from "./stack";
import { distribution, round, sleep, type Distribution } from "./stats";

/**
 * Replaying failed tasks through the operator API, one task per request as it exists today:
 * list the open tasks (GET /v1/admin/failed-tasks, 200 per page), then POST …/:id/replay for
 * each with `concurrency` requests in flight, then wait until the to-d1 consumer has applied the
 * events and marked every task resolved.
 */
export interface ReplayResult {
  tasks: number;
  concurrency: number;
  seedSeconds: number;
  listSeconds: number;
  listPages: number;
  /** Until every replay request was answered. */
  replaySeconds: number;
  requestMs: Distribution;
  /** Until every task was resolved (events applied, tasks closed by the consumer). */
  resolvedSeconds: number;
  tasksPerSecond: number;
  errors: number;
  /** workerd's resident memory (MiB) before the replays and after every 10 % of them. */
  workerdMiB: number[];
}

async function resolvedCount(stack: BenchStack): Promise<number> {
  const [row] = await stack.d1<{ n: number }>("SELECT count(*) AS n FROM failed_tasks WHERE error_code = 'BENCH_SEEDED' AND status = 'resolved'");
  return row?.n ?? 0;
}

export async function replayRun(
  stack: BenchStack,
  opts: { tasks: number; concurrency: number; log: (l: string) => void; timeoutSeconds: number; memory: () => number },
): Promise<ReplayResult> {
  const { log } = opts;
  const auth = { authorization: `Bearer ${BENCH_SECRETS.ADMIN_TOKEN}` };
  const seed = await stack.bench<{ ms: number }>("seed-failed-tasks", { n: opts.tasks });
  log(`replay: ${opts.tasks} failed tasks recorded in ${(seed.ms / 1000).toFixed(1)} s; listing them through the API`);

  const listStarted = Date.now();
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const q = new URLSearchParams({ status: "open", error_code: "BENCH_SEEDED", limit: "200", ...(cursor ? { cursor } : {}) });
    const r = await fetch(`${stack.workerUrl}/v1/admin/failed-tasks?${q}`, { headers: auth });
    const body = (await r.json()) as { data: { items: Array<{ id: string }>; nextCursor: string | null } };
    ids.push(...body.data.items.map((t) => t.id));
    cursor = body.data.nextCursor;
    pages++;
  } while (cursor);
  const listSeconds = (Date.now() - listStarted) / 1000;
  if (ids.length !== opts.tasks) throw new Error(`replay: listed ${ids.length} of ${opts.tasks} tasks`);
  log(`replay: listed in ${listSeconds.toFixed(1)} s (${pages} pages); replaying with ${opts.concurrency} request(s) in flight`);

  const started = Date.now();
  const latencies: number[] = [];
  const workerdMiB = [opts.memory()];
  const step = Math.max(1, Math.floor(ids.length / 10));
  let errors = 0;
  let next = 0;
  let lastLog = Date.now();
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      const t = Date.now();
      const r = await fetch(`${stack.workerUrl}/v1/admin/failed-tasks/${id}/replay`, { method: "POST", headers: auth });
      await r.arrayBuffer();
      latencies.push(Date.now() - t);
      if (latencies.length % step === 0) workerdMiB.push(opts.memory());
      if (r.status >= 300) errors++;
      if (Date.now() - lastLog > 5000) {
        lastLog = Date.now();
        log(`replay: ${latencies.length}/${ids.length} requests answered`);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const replaySeconds = (Date.now() - started) / 1000;
  log(`replay: all ${ids.length} requests answered in ${replaySeconds.toFixed(1)} s (${errors} errors); waiting until resolved`);

  let resolved = 0;
  while ((resolved = await resolvedCount(stack)) < opts.tasks) {
    if (Date.now() - started > opts.timeoutSeconds * 1000) throw new Error(`replay: ${resolved} of ${opts.tasks} resolved after ${opts.timeoutSeconds} s`);
    await sleep(250);
  }
  const resolvedSeconds = (Date.now() - started) / 1000;
  log(`replay: all resolved after ${resolvedSeconds.toFixed(1)} s`);
  return {
    tasks: opts.tasks,
    concurrency: opts.concurrency,
    seedSeconds: round(seed.ms / 1000, 2),
    listSeconds: round(listSeconds, 2),
    listPages: pages,
    replaySeconds: round(replaySeconds, 2),
    requestMs: distribution(latencies),
    resolvedSeconds: round(resolvedSeconds, 2),
    tasksPerSecond: Math.round(opts.tasks / resolvedSeconds),
    errors,
    workerdMiB,
  };
}
