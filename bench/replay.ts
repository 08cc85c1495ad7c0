import type { BenchStack } from "./stack";
import { BENCH_SECRETS } from "./stack";
import { round, sleep } from "./stats";

/**
 * Replaying failed tasks the way an operator does: one plan over the seeded tasks (a dry run that
 * freezes the selection), executed as a replay job at a set rate, then waiting until the to-d1
 * consumer has applied every event and resolved every task. Checks what issue 4 promises: every
 * task ends resolved or superseded, none is sent twice by the job, and the audit names who and why.
 */
export interface ReplayResult {
  tasks: number;
  ratePerSecond: number;
  seedSeconds: number;
  /** POST /v1/admin/replay-plans over all of them (the dry run with its superseded check). */
  planSeconds: number;
  /** From starting the job until it reported completed (everything sent). */
  jobSeconds: number;
  /** Events sent per second while the job ran. */
  sentPerSecond: number;
  /** From starting the job until every task was resolved by the consumer. */
  resolvedSeconds: number;
  tasksPerSecond: number;
  /** Tasks the job sent more than once (must be 0). */
  sentTwice: number;
  audited: boolean;
  /** workerd's resident memory (MiB) before the job and after every 10 % of it. */
  workerdMiB: number[];
}

export async function replayRun(
  stack: BenchStack,
  opts: { tasks: number; rate: number; log: (l: string) => void; timeoutSeconds: number; memory: () => number },
): Promise<ReplayResult> {
  const { log } = opts;
  const headers = {
    authorization: `Bearer ${BENCH_SECRETS.ADMIN_TOKEN}`,
    "content-type": "application/json",
    "x-operator": "bench",
  };
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const r = await fetch(`${stack.workerUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await r.json()) as { success: boolean; data: T; error?: { code: string; message: string } };
    if (!json.success)
      throw new Error(`replay: ${method} ${path} -> ${r.status} ${json.error?.code}: ${json.error?.message}`);
    return json.data;
  };
  const seed = await stack.bench<{ ms: number }>("seed-failed-tasks", { n: opts.tasks });
  log(`replay: ${opts.tasks} failed tasks recorded in ${(seed.ms / 1000).toFixed(1)} s; planning`);

  const planStarted = Date.now();
  const { plan } = await api<{ plan: { id: string; total: number; superseded: number } }>(
    "POST",
    "/v1/admin/replay-plans",
    {
      filter: { error_code: "BENCH_SEEDED", status: "open" },
    },
  );
  const planSeconds = (Date.now() - planStarted) / 1000;
  if (plan.total !== opts.tasks) throw new Error(`replay: the plan froze ${plan.total} of ${opts.tasks} tasks`);
  log(`replay: planned in ${planSeconds.toFixed(1)} s; replaying at up to ${opts.rate}/s`);

  const started = Date.now();
  const { job } = await api<{ job: { id: string } }>("POST", "/v1/admin/replay-jobs", {
    plan_id: plan.id,
    reason: "bench: replay storm",
    rate_per_second: opts.rate,
  });
  const workerdMiB = [opts.memory()];
  let jobSeconds = 0;
  let sent = 0;
  let nextSample = 0.1;
  for (;;) {
    if (Date.now() - started > opts.timeoutSeconds * 1000)
      throw new Error(`replay: job ${job.id} not finished after ${opts.timeoutSeconds} s`);
    const { job: j } = await api<{
      job: { status: string; sent: number; superseded: number; skipped: number; total: number };
    }>("GET", `/v1/admin/replay-jobs/${job.id}`);
    const done = (j.sent + j.superseded + j.skipped) / j.total;
    while (done >= nextSample) {
      workerdMiB.push(opts.memory());
      nextSample += 0.1;
    }
    if (j.status !== "running") {
      if (j.status !== "completed") throw new Error(`replay: job ${job.id} ended ${j.status}`);
      jobSeconds = (Date.now() - started) / 1000;
      sent = j.sent;
      break;
    }
    await sleep(500);
  }
  log(`replay: job completed in ${jobSeconds.toFixed(1)} s (${sent} sent); waiting until resolved`);

  const settledCount = async () =>
    (
      await stack.d1<{ n: number }>(
        "SELECT count(*) AS n FROM failed_tasks WHERE error_code = 'BENCH_SEEDED' AND status IN ('resolved','superseded')",
      )
    )[0]?.n ?? 0;
  let settled = 0;
  while ((settled = await settledCount()) < opts.tasks) {
    if (Date.now() - started > opts.timeoutSeconds * 1000)
      throw new Error(`replay: ${settled} of ${opts.tasks} settled after ${opts.timeoutSeconds} s`);
    await sleep(250);
  }
  const resolvedSeconds = (Date.now() - started) / 1000;
  const [twice] = await stack.d1<{ n: number }>(
    "SELECT count(*) AS n FROM (SELECT event_id FROM failed_task_history WHERE job_id = ?1 AND kind = 'replay' GROUP BY event_id HAVING count(*) > 1)",
    [job.id],
  );
  const audit = await api<{ items: Array<{ action: string; actor: string; reason: string }> }>(
    "GET",
    `/v1/admin/audit?target=${job.id}`,
  );
  log(`replay: all settled after ${resolvedSeconds.toFixed(1)} s`);
  return {
    tasks: opts.tasks,
    ratePerSecond: opts.rate,
    seedSeconds: round(seed.ms / 1000, 2),
    planSeconds: round(planSeconds, 2),
    jobSeconds: round(jobSeconds, 2),
    sentPerSecond: Math.round(sent / jobSeconds),
    resolvedSeconds: round(resolvedSeconds, 2),
    tasksPerSecond: Math.round(opts.tasks / resolvedSeconds),
    sentTwice: twice?.n ?? -1,
    audited: audit.items.some(
      (e) => e.action === "replay" && e.actor === "bench" && e.reason === "bench: replay storm",
    ),
    workerdMiB,
  };
}
