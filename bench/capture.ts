import type { CaptureMode } from "../tools/deploy/webhooks-sql";
import { webhookLag } from "./lag";
import { processCpuSeconds } from "./memory";
import type { BenchStack } from "./stack";
import { distribution, round, sleep, type Distribution } from "./stats";

/**
 * Capture (issue 14): what it costs to hear about changes, row-level webhooks against
 * statement-level capture, measured in one run, side by side.
 *
 * Bulk: N prospects are inserted with no capture trigger, then the mode's triggers are installed
 * and ONE autocommit `update … where` statement changes all N rows (every row to version 2).
 * Per mode and size: the HTTP requests the pg_net relay sent for it, workerd's CPU from before the
 * statement until every row was visible in D1 (ingest + queue + consumer + local D1, which all run
 * in that one process locally; the consumer's share is the same in both modes, so the difference
 * is what capture costs), and the lag of each row from the statement's commit to the to-d1
 * consumer's ack of its version (the bench recorder, as in the lag phase).
 *
 * Single-row load: the lag phase's open-loop writer (half inserts, half updates, one autocommit
 * statement each) at `rate`, once per mode: one row per statement, so one request per change in
 * both modes; measured to show that statement capture costs single-row writers nothing.
 */
export interface CaptureBulkResult {
  mode: CaptureMode;
  rows: number;
  statementMs: number;
  requests: number;
  failedRequests: number;
  requestsPer1000Rows: number;
  workerdCpuSeconds: number;
  workerdCpuMsPerChange: number;
  wranglerCpuSeconds: number;
  visible: number;
  notVisible: number;
  lagMs: Distribution;
  /** Commit → the worker answered the last capture request: ingest done, the rest is queue + consumer. */
  lastRequestAnsweredMs: number;
  /** Worker time per capture request (receive → answer), as the bench worker saw it. */
  requestMs: Distribution;
}

export interface CaptureSingleResult {
  mode: CaptureMode;
  targetRate: number;
  achievedRate: number;
  changes: number;
  requests: number;
  /** Requests the worker did not accept (e.g. wrangler dev's 503 "worker restarted"): lost, as with pg_net. */
  failedRequests: number;
  requestsPer1000Rows: number;
  /** Capture requests the worker received per second while they arrived: the ingest rate. */
  requestsInPerSecond?: number;
  workerdCpuMsPerChange: number;
  notVisible: number;
  lagMs: Distribution;
}

export interface CaptureResult {
  bulk: CaptureBulkResult[];
  single: CaptureSingleResult[];
}

type Delivery = [string, number, string, number];
type Hit = [string, number, number, number, number];

export async function captureRun(
  stack: BenchStack,
  opts: {
    sizes: number[];
    modes: CaptureMode[];
    singleRate: number;
    singleSeconds: number;
    pids: { workerd: number | null; wrangler: number | null };
    log: (l: string) => void;
  },
): Promise<CaptureResult> {
  const result: CaptureResult = { bulk: [], single: [] };
  stack.startRelay();
  // Sizes outer, modes inner: each size's two modes run back to back on the same machine state.
  for (const rows of opts.sizes) {
    for (const mode of opts.modes) {
      result.bulk.push(await bulkUpdate(stack, { mode, rows, pids: opts.pids, log: opts.log }));
    }
  }
  for (const mode of opts.modes) {
    await settle(stack);
    await stack.installWebhooks(mode);
    const before = stack.relayStats();
    const cpu0 = processCpuSeconds(opts.pids.workerd);
    const r = await webhookLag(stack, { rate: opts.singleRate, seconds: opts.singleSeconds, log: opts.log });
    const cpu = processCpuSeconds(opts.pids.workerd) - cpu0;
    const after = stack.relayStats();
    const requests = after.sent + after.failed - before.sent - before.failed;
    result.single.push({
      mode,
      targetRate: r.targetRate,
      achievedRate: r.achievedRate,
      changes: r.changes,
      requests,
      failedRequests: after.failed - before.failed,
      requestsPer1000Rows: round((requests / r.changes) * 1000),
      requestsInPerSecond: r.webhookArrivalRate,
      workerdCpuMsPerChange: round((cpu * 1000) / r.changes, 3),
      notVisible: r.notVisible,
      lagMs: r.lagMs,
    });
    opts.log(
      `capture single-row ${mode} at ${opts.singleRate}/s: ${requests} requests for ${r.changes} changes, ` +
        `lag p50 ${r.lagMs.p50} ms p99 ${r.lagMs.p99} ms, workerd ${round((cpu * 1000) / r.changes, 3)} ms CPU per change`,
    );
    await stack.dropWebhooks();
    // What the phase gave up on must not run into the next mode's figures: requests not sent by
    // now are dropped (as pg_net's would time out), and the queue is left to drain in settle().
    await stack.sql`delete from net.http_request_queue`;
  }
  await stack.stopRelay();
  return result;
}

/** Waits until the to-d1 consumer has acked nothing for 3 s (the queue is drained), at most 2 min. */
async function settle(stack: BenchStack) {
  await stack.bench("recorder", { deliveries: true });
  const deadline = Date.now() + 120_000;
  let quietSince = Date.now();
  while (Date.now() - quietSince < 3000 && Date.now() < deadline) {
    await sleep(500);
    const drained = await stack.bench<{ deliveries: Delivery[] }>("recorder");
    if (drained.deliveries.length) quietSince = Date.now();
  }
  await stack.bench("recorder", {});
}

async function bulkUpdate(
  stack: BenchStack,
  opts: {
    mode: CaptureMode;
    rows: number;
    pids: { workerd: number | null; wrangler: number | null };
    log: (l: string) => void;
  },
): Promise<CaptureBulkResult> {
  const tag = `capture-${opts.mode}-${opts.rows}-${Date.now()}`;
  await settle(stack);
  await stack.dropWebhooks();
  const inserted = await stack.sql<Array<{ id: string }>>`
    insert into prospects (name, city, country, contact_name, contact_email, contact_title, website, stage, tier, score, lead_source)
    select ${tag} || ' ' || g, 'Zürich', 'CH', 'Anna Muster', 'gm.' || g || '@' || ${tag} || '.test', 'General Manager',
           'https://bellevue.test', 'new', 'A', g % 100, ${tag}
      from generate_series(1, ${opts.rows}::int) g
    returning id`;
  const ids = new Set(inserted.map((r) => r.id));
  await stack.installWebhooks(opts.mode);
  await stack.bench("recorder", { deliveries: true, batches: true, webhooks: true });
  const before = stack.relayStats();
  const cpu0 = { workerd: processCpuSeconds(opts.pids.workerd), wrangler: processCpuSeconds(opts.pids.wrangler) };

  const started = Date.now();
  await stack.sql`update prospects set score = score + 1, stage = 'enriching' where lead_source = ${tag}`;
  const committed = Date.now();
  opts.log(`capture bulk ${opts.mode} ${opts.rows}: update committed in ${committed - started} ms; waiting for D1`);

  // Every row at version 2 in D1, or no progress for 20 s.
  const visibleAt = new Map<string, number>();
  const hits: Hit[] = [];
  let lastProgress = Date.now();
  while (visibleAt.size < ids.size && Date.now() - lastProgress < 20_000) {
    await sleep(250);
    const drained = await stack.bench<{ deliveries: Delivery[]; webhooks: Hit[] }>("recorder");
    hits.push(...drained.webhooks);
    let progressed = false;
    for (const [id, version, , at] of drained.deliveries) {
      if (version >= 2 && ids.has(id) && !visibleAt.has(id)) {
        visibleAt.set(id, at);
        progressed = true;
      }
    }
    if (progressed) lastProgress = Date.now();
  }
  const cpu = {
    workerd: processCpuSeconds(opts.pids.workerd) - cpu0.workerd,
    wrangler: processCpuSeconds(opts.pids.wrangler) - cpu0.wrangler,
  };
  // Requests still being sent when the last row was visible count too: wait for the relay's queue.
  await waitForRelayIdle(stack);
  const after = stack.relayStats();
  hits.push(...(await stack.bench<{ webhooks: Hit[] }>("recorder")).webhooks);
  await stack.bench("recorder", {});
  await stack.dropWebhooks();

  const lags = [...ids].map((id) => (visibleAt.has(id) ? visibleAt.get(id)! - committed : Infinity));
  const requests = after.sent + after.failed - before.sent - before.failed;
  const r: CaptureBulkResult = {
    mode: opts.mode,
    rows: opts.rows,
    statementMs: committed - started,
    requests,
    failedRequests: after.failed - before.failed,
    requestsPer1000Rows: round((requests / opts.rows) * 1000),
    workerdCpuSeconds: round(cpu.workerd, 2),
    workerdCpuMsPerChange: round((cpu.workerd * 1000) / opts.rows, 3),
    wranglerCpuSeconds: round(cpu.wrangler, 2),
    visible: visibleAt.size,
    notVisible: ids.size - visibleAt.size,
    lagMs: distribution(lags),
    lastRequestAnsweredMs: hits.length ? Math.max(...hits.map((h) => h[3])) - committed : NaN,
    requestMs: distribution(hits.map((h) => h[3] - h[2])),
  };
  opts.log(
    `capture bulk ${opts.mode} ${opts.rows}: ${requests} requests, lag p50 ${r.lagMs.p50} ms p99 ${r.lagMs.p99} ms, ` +
      `workerd ${r.workerdCpuMsPerChange} ms CPU per change, last request answered ${r.lastRequestAnsweredMs} ms after commit, ${r.notVisible} not visible`,
  );
  return r;
}

async function waitForRelayIdle(stack: BenchStack) {
  for (let i = 0; i < 100; i++) {
    const [q] = await stack.sql`select count(*)::int as n from net.http_request_queue`;
    if (q!.n === 0) break;
    await sleep(200);
  }
  await sleep(500); // requests claimed but not yet answered
}
