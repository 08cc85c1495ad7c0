import type { BenchStack } from "./stack";
import { steadyLoad, type LoadResult } from "./load";
import { distribution, sleep, type Distribution } from "./stats";

/**
 * Replication lag, commit in Postgres → visible in D1. The commit time is when the writer's
 * autocommit statement returned; "visible" is when the to-d1 consumer that applied a version at
 * least as new finished (its D1 transaction had committed by then), as the bench worker records it.
 */
type Delivery = [string, number, string, number];
type WebhookHit = [string, number, number, number, number];
type BatchRun = [string, number, number, number];
interface Drained {
  deliveries: Delivery[];
  webhooks: WebhookHit[];
  batches: BatchRun[];
}

export interface LagResult {
  path: "webhook" | "sweep" | "queue";
  targetRate: number;
  achievedRate: number;
  seconds: number;
  changes: number;
  /** Changes seen in D1 before the phase gave up waiting. */
  visible: number;
  notVisible: number;
  writeErrors: number;
  maxIssueDelayMs: number;
  lagMs: Distribution;
  /** Webhook path only: commit → the worker received the webhook, and received → visible in D1. */
  commitToWebhookMs?: Distribution;
  webhookToVisibleMs?: Distribution;
  webhookErrors?: number;
  /** Webhook path only: time the worker took to answer a webhook (validate, queue send). */
  webhookHandlerMs?: Distribution;
  /** Webhook path only: webhooks the worker received per second while they arrived. */
  webhookArrivalRate?: number;
  /** Deliveries by event source (webhook or change log): shows which path carried the changes. */
  deliveriesBySource: Record<string, number>;
  consumer: { batches: number; meanBatchSize: number; msPerBatch: Distribution };
  /** Sweep path only. */
  sweep?: { graceSeconds: number; intervalSeconds: number; runs: number; msPerRun: Distribution };
}

class Collector {
  all: Drained = { deliveries: [], webhooks: [], batches: [] };
  constructor(private stack: BenchStack) {}
  async pull() {
    const d = await this.stack.bench<Drained>("recorder");
    this.all.deliveries.push(...d.deliveries);
    this.all.webhooks.push(...d.webhooks);
    this.all.batches.push(...d.batches);
  }
  /** id → [version, ackedAt] in time order. */
  visibility() {
    const byId = new Map<string, Array<[number, number]>>();
    for (const [id, v, , t] of [...this.all.deliveries].sort((a, b) => a[3] - b[3])) {
      const list = byId.get(id) ?? [];
      list.push([v, t]);
      byId.set(id, list);
    }
    return byId;
  }
}

function visibleAt(byId: Map<string, Array<[number, number]>>, key: string): number | undefined {
  const [id, v] = key.split(":") as [string, string];
  return byId.get(id)?.find(([version]) => version >= Number(v))?.[1];
}

async function measure(
  stack: BenchStack,
  opts: {
    rate: number;
    seconds: number;
    tag: string;
    waitSeconds: number;
    log: (l: string) => void;
    during?: (elapsedMs: number) => void;
    afterWrite?: () => Promise<void>;
  },
) {
  await stack.bench("recorder", { deliveries: true, webhooks: true, batches: true });
  const collector = new Collector(stack);
  let lastPull = Date.now();
  let lastLog = Date.now();
  const load: LoadResult = await steadyLoad(stack.sql, {
    rate: opts.rate,
    seconds: opts.seconds,
    tag: opts.tag,
    maxInFlight: Math.max(32, Math.ceil(opts.rate / 10)),
    onTick: (elapsed) => {
      opts.during?.(elapsed);
      if (Date.now() - lastPull > 1000) {
        lastPull = Date.now();
        void collector.pull().catch(() => {});
      }
      if (Date.now() - lastLog > 5000) {
        lastLog = Date.now();
        opts.log(`  ${Math.round(elapsed / 1000)} s: ${collector.all.deliveries.length} deliveries so far`);
      }
    },
  });
  opts.log(
    `  writes done: ${load.commits.size} commits in ${load.seconds.toFixed(1)} s (${load.achievedRate}/s, ${load.errors} errors); waiting for D1`,
  );
  // Wait until every change is visible; give up after `waitSeconds` without progress (a change
  // whose webhook was lost never arrives on the webhook path) or twice that in total.
  const hardDeadline = Date.now() + 2 * opts.waitSeconds * 1000;
  let missing = load.commits.size;
  let lastProgress = Date.now();
  while (Date.now() < hardDeadline && Date.now() - lastProgress < opts.waitSeconds * 1000) {
    await opts.afterWrite?.();
    await collector.pull();
    const byId = collector.visibility();
    const now = [...load.commits.keys()].filter((k) => visibleAt(byId, k) === undefined).length;
    if (now < missing) lastProgress = Date.now();
    missing = now;
    if (missing === 0) break;
    if (Date.now() - lastLog > 5000) {
      lastLog = Date.now();
      opts.log(`  ${missing} changes not visible yet`);
    }
    await sleep(500);
  }
  await collector.pull();
  await stack.bench("recorder", {});
  return { load, collector };
}

function summarise(path: LagResult["path"], load: LoadResult, collector: Collector): LagResult {
  const byId = collector.visibility();
  const lags: number[] = [];
  const toHook: number[] = [];
  const hookToVisible: number[] = [];
  const hooks = new Map<string, number>();
  for (const [id, v, received] of collector.all.webhooks)
    if (!hooks.has(`${id}:${v}`)) hooks.set(`${id}:${v}`, received);
  for (const [key, committed] of load.commits) {
    const visible = visibleAt(byId, key);
    if (visible === undefined) {
      lags.push(Infinity); // never seen: counts against the percentiles
      continue;
    }
    lags.push(visible - committed);
    const received = hooks.get(key);
    if (received !== undefined) {
      toHook.push(received - committed);
      hookToVisible.push(visible - received);
    }
  }
  const toD1 = collector.all.batches.filter((b) => b[0] === "to-d1");
  const bySource: Record<string, number> = {};
  for (const d of collector.all.deliveries) bySource[d[2]] = (bySource[d[2]] ?? 0) + 1;
  return {
    path,
    targetRate: load.targetRate,
    achievedRate: load.achievedRate,
    seconds: Math.round(load.seconds * 10) / 10,
    changes: load.commits.size,
    visible: lags.filter(Number.isFinite).length,
    notVisible: lags.filter((l) => !Number.isFinite(l)).length,
    writeErrors: load.errors,
    maxIssueDelayMs: load.maxIssueDelayMs,
    lagMs: distribution(lags),
    ...(path === "webhook"
      ? {
          commitToWebhookMs: distribution(toHook),
          webhookToVisibleMs: distribution(hookToVisible),
          webhookErrors: collector.all.webhooks.filter((w) => w[4] >= 300).length,
          webhookHandlerMs: distribution(collector.all.webhooks.map((w) => w[3] - w[2])),
          webhookArrivalRate: arrivalRate(collector.all.webhooks.map((w) => w[2])),
        }
      : {}),
    deliveriesBySource: bySource,
    consumer: {
      batches: toD1.length,
      meanBatchSize: Math.round((toD1.reduce((s, b) => s + b[1], 0) / (toD1.length || 1)) * 10) / 10,
      msPerBatch: distribution(toD1.map((b) => b[3])),
    },
  };
}

function arrivalRate(times: number[]): number {
  if (times.length < 2) return 0;
  const sorted = [...times].sort((a, b) => a - b);
  return Math.round(((sorted.length - 1) / (sorted[sorted.length - 1]! - sorted[0]!)) * 1000);
}

/**
 * Webhook path: the webhook triggers and the pg_net relay on, no sweep. After the writes it waits
 * until `waitSeconds` (default 60) pass without progress, at most twice that in all: at 1,000/s the
 * local stack takes in a few hundred webhooks/s or fewer on a busy machine, and the backlog is
 * measured to its end rather than cut off (a lost webhook never arrives: "not visible").
 */
export async function webhookLag(
  stack: BenchStack,
  opts: { rate: number; seconds: number; log: (l: string) => void; waitSeconds?: number },
): Promise<LagResult> {
  opts.log(`lag (webhook path): ${opts.rate} changes/s for ${opts.seconds} s`);
  const { load, collector } = await measure(stack, {
    ...opts,
    tag: `lag-webhook-${opts.rate}`,
    waitSeconds: opts.waitSeconds ?? 60,
  });
  return summarise("webhook", load, collector);
}

/**
 * Sweep path alone: no webhook triggers; the change-log sweep (the function the every-minute cron
 * runs) is fired every `intervalSeconds` with a grace period of `graceSeconds`, as the cron would.
 */
export async function sweepLag(
  stack: BenchStack,
  opts: { rate: number; seconds: number; graceSeconds: number; intervalSeconds: number; log: (l: string) => void },
): Promise<LagResult> {
  opts.log(
    `lag (sweep path): ${opts.rate} changes/s for ${opts.seconds} s, sweep every ${opts.intervalSeconds} s with ${opts.graceSeconds} s grace`,
  );
  const runs: number[] = [];
  let nextFire = opts.intervalSeconds * 1000;
  let running: Promise<void> | undefined;
  const started = Date.now();
  const fire = () => {
    if (running || Date.now() - started < nextFire) return;
    nextFire += opts.intervalSeconds * 1000;
    running = stack
      .bench<{ ms: number; result: { scanned: number; republished: number } }>("sweep", { grace: opts.graceSeconds })
      .then((r) => {
        runs.push(r.ms);
        opts.log(
          `  sweep run ${runs.length}: scanned ${r.result.scanned}, republished ${r.result.republished} in ${r.ms} ms`,
        );
      })
      .catch((e: Error) => opts.log(`  sweep failed: ${e.message}`))
      .finally(() => {
        running = undefined;
      });
  };
  const { load, collector } = await measure(stack, {
    ...opts,
    tag: "lag-sweep",
    waitSeconds: opts.graceSeconds + opts.intervalSeconds + 20,
    during: () => fire(),
    afterWrite: async () => {
      fire();
      await running;
    },
  });
  await running;
  return {
    ...summarise("sweep", load, collector),
    sweep: {
      graceSeconds: opts.graceSeconds,
      intervalSeconds: opts.intervalSeconds,
      runs: runs.length,
      msPerRun: distribution(runs),
    },
  };
}

/**
 * The part of the webhook path after the webhook: events published onto to-d1 by the worker at a
 * steady rate (one publish call per 10 ms carrying rate/100 events), timed from the moment the
 * publish returned to visible in D1. Shows what the queue and the consumer sustain on their own.
 */
export async function queueLag(
  stack: BenchStack,
  opts: { rate: number; seconds: number; log: (l: string) => void },
): Promise<LagResult> {
  opts.log(`lag (queue and consumer only): ${opts.rate} events/s for ${opts.seconds} s`);
  await stack.bench("recorder", { deliveries: true, batches: true });
  const collector = new Collector(stack);
  const commits = new Map<string, number>();
  const perTick = Math.max(1, Math.round(opts.rate / 100));
  const ticks = Math.round(opts.seconds * 100);
  const started = Date.now();
  let errors = 0;
  let maxIssueDelayMs = 0;
  const pending: Promise<void>[] = [];
  for (let k = 0; k < ticks; k++) {
    const due = started + k * 10;
    await sleep(Math.max(0, due - Date.now()));
    maxIssueDelayMs = Math.max(maxIssueDelayMs, Date.now() - due);
    pending.push(
      stack
        .bench<{ sentAt: number; ids: string[] }>("publish", {
          n: perTick,
          offset: k * perTick,
          pool: 0xb0 + opts.rate / 100,
        })
        .then((r) => r.ids.forEach((id) => commits.set(`${id}:1`, r.sentAt)))
        .catch(() => void errors++),
    );
    if (k % 100 === 0) void collector.pull().catch(() => {});
  }
  await Promise.all(pending);
  const seconds = (Date.now() - started) / 1000;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    await collector.pull();
    const byId = collector.visibility();
    if ([...commits.keys()].every((key) => visibleAt(byId, key) !== undefined)) break;
    await sleep(500);
  }
  await collector.pull();
  await stack.bench("recorder", {});
  const load: LoadResult = {
    commits,
    achievedRate: Math.round(commits.size / seconds),
    targetRate: opts.rate,
    seconds,
    errors,
    maxIssueDelayMs: Math.round(maxIssueDelayMs),
    inserted: [],
  };
  return summarise("queue", load, collector);
}

/** Moves the change-log cursor past everything committed so far (grace 0), so that a phase's
 * sweep deals with its own changes only. */
export async function catchUpSweep(stack: BenchStack): Promise<{ runs: number; scanned: number; republished: number }> {
  const total = { runs: 0, scanned: 0, republished: 0 };
  for (;;) {
    const r = await stack.bench<{ result: { scanned: number; republished: number; caughtUp: boolean } }>("sweep", {
      grace: 0,
    });
    total.runs++;
    total.scanned += r.result.scanned;
    total.republished += r.result.republished;
    if (r.result.caughtUp) return total;
  }
}
