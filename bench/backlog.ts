import type { BenchStack } from "./stack";
import { distribution, round, sleep, type Distribution } from "./stats";

/**
 * Scaling with the backlog: N changes committed in Postgres that the webhook path never delivered
 * (the worker was down, or pg_net dropped them), recovered by the change-log sweep and the to-d1
 * consumer. Per N: the sweep runs back to back (each call is one cron run: up to 200 pages of 500 or 20 s)
 * until caught up, while the consumer drains the queue; done when D1's bookkeeping counts N more
 * applied prospects. Cost per event = wall time / N, split into sweep time and consumer time.
 */
export interface BacklogResult {
  events: number;
  writeSeconds: number;
  sweepRuns: number;
  sweepSeconds: number;
  /** From the first sweep call until D1 holds all N. */
  drainSeconds: number;
  msPerEvent: number;
  sweepMsPerEvent: number;
  /** Consumer busy time (sum over to-d1 invocations) per event. */
  consumerMsPerEvent: number;
  consumer: { batches: number; meanBatchSize: number; msPerBatch: Distribution };
  eventsPerSecond: number;
  /** Prospects in D1 (all phases) when this size finished: the replica grows across sizes. */
  replicaRows: number;
  workerdPeakMiB: number;
}

async function appliedProspects(stack: BenchStack): Promise<number> {
  const [row] = await stack.d1<{ n: number }>(
    "SELECT applied_total AS n FROM sync_entity_state WHERE entity = 'prospects'",
  );
  return row?.n ?? 0;
}

export async function backlogRun(
  stack: BenchStack,
  opts: { events: number; log: (l: string) => void; memory: () => number; timeoutSeconds: number },
): Promise<BacklogResult> {
  const { events, log } = opts;
  const tag = `backlog-${events}`;
  log(`backlog ${events}: writing ${events} prospects in Postgres (webhooks off)`);
  const writeStarted = Date.now();
  for (let i = 0; i < events; i += 1000) {
    const n = Math.min(1000, events - i);
    await stack.sql`
      insert into prospects (name, city, country, contact_name, contact_email, contact_title, phone, website, linkedin_url, stage, tier, score, lead_source)
      select ${tag} || ' ' || g, 'Zürich', 'CH', 'Anna Muster-Keller', 'gm.' || g || '@backlog.test', 'General Manager', '+41 44 123 45 67',
             'https://www.bellevue-palace.test', 'https://www.linkedin.com/company/bellevue-palace-zurich', 'new', 'A', g % 100, ${tag}
        from generate_series(${i + 1}::int, ${i + n}::int) g`;
  }
  const writeSeconds = (Date.now() - writeStarted) / 1000;

  const before = await appliedProspects(stack);
  await stack.bench("recorder", { batches: true });
  log(`backlog ${events}: written in ${writeSeconds.toFixed(1)} s; sweeping and draining`);
  const started = Date.now();
  let sweepMs = 0;
  let sweepRuns = 0;
  let republished = 0;
  let peak = 0;
  for (;;) {
    const r = await stack.bench<{ ms: number; result: { republished: number; caughtUp: boolean } }>("sweep", {
      grace: 0,
    });
    sweepMs += r.ms;
    sweepRuns++;
    republished += r.result.republished;
    peak = Math.max(peak, opts.memory());
    if (r.result.caughtUp) break;
    if (Date.now() - started > opts.timeoutSeconds * 1000)
      throw new Error(`backlog ${events}: sweep not caught up after ${opts.timeoutSeconds} s`);
  }
  log(
    `backlog ${events}: sweep caught up after ${sweepRuns} run(s), ${republished} republished, in ${(sweepMs / 1000).toFixed(1)} s`,
  );
  let applied = 0;
  let lastLog = Date.now();
  for (;;) {
    applied = (await appliedProspects(stack)) - before;
    peak = Math.max(peak, opts.memory());
    if (applied >= events) break;
    if (Date.now() - started > opts.timeoutSeconds * 1000)
      throw new Error(`backlog ${events}: ${applied} of ${events} applied after ${opts.timeoutSeconds} s`);
    if (Date.now() - lastLog > 5000) {
      lastLog = Date.now();
      log(`backlog ${events}: ${applied} applied`);
    }
    await sleep(200);
  }
  const drainSeconds = (Date.now() - started) / 1000;
  const { batches } = await stack.bench<{ batches: Array<[string, number, number, number]> }>("recorder");
  await stack.bench("recorder", {});
  const toD1 = batches.filter((b) => b[0] === "to-d1");
  const [held] = await stack.d1<{ n: number; rows: number }>(
    "SELECT (SELECT count(*) FROM prospects WHERE lead_source = ?1) AS n, (SELECT count(*) FROM prospects) AS rows",
    [tag],
  );
  if (held?.n !== events) await explainShortfall(stack, tag, events, held?.n ?? 0, log);
  const busy = toD1.reduce((s, b) => s + b[3], 0);
  log(`backlog ${events}: all applied in ${drainSeconds.toFixed(1)} s (${Math.round(events / drainSeconds)} events/s)`);
  return {
    events,
    writeSeconds: round(writeSeconds),
    sweepRuns,
    sweepSeconds: round(sweepMs / 1000, 2),
    drainSeconds: round(drainSeconds, 2),
    msPerEvent: round((drainSeconds * 1000) / events, 3),
    sweepMsPerEvent: round(sweepMs / events, 3),
    consumerMsPerEvent: round(busy / events, 3),
    consumer: {
      batches: toD1.length,
      meanBatchSize: round(toD1.reduce((s, b) => s + b[1], 0) / (toD1.length || 1)),
      msPerBatch: distribution(toD1.map((b) => b[3])),
    },
    eventsPerSecond: Math.round(events / drainSeconds),
    replicaRows: held?.rows ?? 0,
    workerdPeakMiB: peak,
  };
}

/**
 * The bookkeeping counted N applied but D1 holds fewer rows: wait, count again, and name what is
 * missing (a row lost would be a bug; a count ahead of the rows, a race in what the bench reads).
 */
async function explainShortfall(
  stack: BenchStack,
  tag: string,
  events: number,
  held: number,
  log: (l: string) => void,
) {
  await sleep(3000);
  const pgIds =
    (await stack.sql`select id::text as id, version from prospects where lead_source = ${tag}`) as unknown as Array<{
      id: string;
      version: number;
    }>;
  const d1Rows = await stack.d1<{ id: string; version: number }>(
    "SELECT id, version FROM prospects WHERE lead_source = ?1",
    [tag],
  );
  const inD1 = new Map(d1Rows.map((r) => [r.id, r.version]));
  const missing = pgIds.filter((r) => inD1.get(r.id) !== Number(r.version));
  const detail = await Promise.all(
    missing.slice(0, 5).map(async (r) => ({
      id: r.id,
      postgres: r.version,
      d1: (await stack.d1("SELECT version, lead_source FROM prospects WHERE id = ?1", [r.id]))[0] ?? null,
      tombstone:
        (await stack.d1("SELECT version FROM sync_tombstones WHERE entity = 'prospects' AND id = ?1", [r.id]))[0] ??
        null,
      failed: await stack
        .d1("SELECT error_code, attempts FROM failed_tasks WHERE entity = 'prospects' AND row_id = ?1", [r.id])
        .catch((e) => String(e)),
    })),
  );
  const line = `backlog ${events}: the count reached ${events} when D1 held ${held}; 3 s later ${d1Rows.length} in D1, ${missing.length} missing or behind: ${JSON.stringify(detail)}`;
  log(line);
  if (missing.length) throw new Error(line);
}
