import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { consumeWorkBatch } from "../consumers/work-queue";
import { batchCounts, batchMetricsStatement, type OutcomeKind } from "../core/metrics/batch-metrics";
import { LAG_BOUNDS_MS, LAG_COLUMNS, lagBucket, lagPercentile } from "../core/metrics/lag-histogram";
import { d1Replica } from "../core/stores/d1-replica";
import { makeEvent } from "../schemas/event";
import { QUEUES } from "../schemas/registry";
import { rollUpMetrics } from "../src/services/metrics-retention";
import { metricsSeries } from "../src/services/metrics-series";
import { prospectEvent } from "./support/operator";

type MetricsRow = { span: number; bucket_start: number; queue: string; entity: string } & Record<string, number>;

const rows = async () =>
  (await env.DB.prepare("SELECT * FROM sync_metrics ORDER BY span, bucket_start, queue, entity").all<MetricsRow>())
    .results;

let seq = 0;
/** Runs the real to-d1 consumer (D1 replica, DLQ binding) on these bodies, at a fixed clock. */
async function consume(bodies: unknown[], nowMs: number) {
  const batch = createMessageBatch(
    QUEUES.toD1,
    bodies.map((body) => ({ id: `m-${++seq}`, timestamp: new Date(nowMs), attempts: 1, body })),
  );
  const summary = await consumeWorkBatch(
    { queue: QUEUES.toD1, target: d1Replica(env.DB), db: env.DB, dlq: env.TO_D1_DLQ, now: () => nowMs },
    batch as MessageBatch<unknown>,
  );
  await getQueueResult(batch, createExecutionContext());
  return summary;
}

/** A prospect upsert committed `lagMs` before `nowMs`. */
const committedBefore = (nowMs: number, lagMs: number) => {
  const at = new Date(nowMs - lagMs).toISOString();
  return prospectEvent(crypto.randomUUID(), 1, { created_at: at, updated_at: at });
};

const minuteOf = (ms: number) => Math.floor(ms / 60_000) * 60;

beforeEach(async () => {
  await env.DB.prepare("DELETE FROM sync_metrics").run();
});

describe("sync metrics written by the consumer", () => {
  it("a batch adds its applied, stale and failed counts and each applied event's lag to the minute bucket", async () => {
    const now = Date.now();
    const fast = [committedBefore(now, 1_500), committedBefore(now, 1_800), committedBefore(now, 1_999)];
    const slow = committedBefore(now, 40_000);
    const replayed = { ...committedBefore(now, 86_400_000), source: "replay" as const };
    const invalid = { ...committedBefore(now, 1_000), row: { ...fast[0]!.row, id: "not-a-uuid" } };
    const summary = await consume([...fast, slow, fast[0], replayed, invalid, { nonsense: true }], now);
    expect(summary).toMatchObject({ applied: 5, stale: 1, deadLettered: 2 });

    const [prospects, unknown, ...rest] = await rows().then((r) => r.sort((a, b) => (a.entity < b.entity ? 1 : -1)));
    expect(rest).toEqual([]);
    expect(prospects).toMatchObject({ span: 60, bucket_start: minuteOf(now), queue: "to-d1", entity: "prospects" });
    expect({ applied: prospects!.applied, stale: prospects!.stale, failed: prospects!.failed }).toEqual({
      applied: 5,
      stale: 1,
      failed: 1,
    });
    // 1.5–2 s → the (1 s, 2 s] bucket; 40 s → (20 s, 50 s]; the replay's day-old image is no lag.
    const lag = Object.fromEntries(LAG_COLUMNS.filter((c) => prospects![c]).map((c) => [c, prospects![c]]));
    expect(lag).toEqual({ [LAG_COLUMNS[lagBucket(2_000)]!]: 3, [LAG_COLUMNS[lagBucket(50_000)]!]: 1 });
    expect(LAG_BOUNDS_MS[lagBucket(2_000)]).toBe(2_000);
    expect(unknown).toMatchObject({ entity: "?", applied: 0, failed: 1 });

    // A second batch in the same minute adds to the same row.
    await consume([committedBefore(now, 150)], now + 1);
    const [again] = (await rows()).filter((r) => r.entity === "prospects");
    expect(again).toMatchObject({ applied: 6, [LAG_COLUMNS[lagBucket(200)]!]: 1 });
  });

  it("a failed batch counts its failures and no lag", async () => {
    const now = Date.now();
    const bad = Array.from({ length: 3 }, () => {
      const event = committedBefore(now, 500);
      return { ...event, row: { ...event.row, stage: "no-such-stage" } };
    });
    const summary = await consume(bad, now);
    expect(summary).toMatchObject({ applied: 0, deadLettered: 3 });
    const [row, ...rest] = await rows();
    expect(rest).toEqual([]);
    expect(row).toMatchObject({ entity: "prospects", applied: 0, stale: 0, failed: 3 });
    expect(LAG_COLUMNS.map((c) => row![c])).toEqual(LAG_COLUMNS.map(() => 0));
  });

  it("a metrics write that D1 refuses costs only the metrics: the batch is acked and its bookkeeping written", async () => {
    const now = Date.now();
    const before = await env.DB.prepare(
      "SELECT applied_total FROM sync_entity_state WHERE entity = 'prospects'",
    ).first<{
      applied_total: number;
    }>();
    // As if the worker were deployed before the migration that creates the table.
    await env.DB.prepare("ALTER TABLE sync_metrics RENAME TO sync_metrics_elsewhere").run();
    try {
      const events = [committedBefore(now, 300), committedBefore(now, 300)];
      const batch = createMessageBatch(
        QUEUES.toD1,
        events.map((body) => ({ id: `m-${++seq}`, timestamp: new Date(now), attempts: 1, body })),
      );
      await consumeWorkBatch(
        { queue: QUEUES.toD1, target: d1Replica(env.DB), db: env.DB, dlq: env.TO_D1_DLQ, now: () => now },
        batch as MessageBatch<unknown>,
      );
      const result = await getQueueResult(batch, createExecutionContext());
      expect(result.explicitAcks.sort()).toEqual(batch.messages.map((m) => m.id).sort());
      const after = await env.DB.prepare(
        "SELECT applied_total FROM sync_entity_state WHERE entity = 'prospects'",
      ).first<{
        applied_total: number;
      }>();
      expect(after!.applied_total).toBe((before?.applied_total ?? 0) + 2);
    } finally {
      await env.DB.prepare("ALTER TABLE sync_metrics_elsewhere RENAME TO sync_metrics").run();
    }
    expect(await rows()).toEqual([]);
  });
});

/** Writes one minute bucket through the consumer's own statement. */
async function writeMinute(nowMs: number, entity: string, outcomes: OutcomeKind[], lagsMs: number[]) {
  await minuteStatement(nowMs, entity, outcomes, lagsMs).run();
}

function minuteStatement(nowMs: number, entity: string, outcomes: OutcomeKind[], lagsMs: number[]) {
  const bodies = outcomes.map((outcome, i) => {
    const at = new Date(nowMs - (lagsMs[i] ?? 0)).toISOString();
    return makeEvent({
      entity: entity as "prospects",
      op: "upsert",
      key: { id: crypto.randomUUID() },
      version: 1,
      row: { updated_at: at },
      source: "supabase-webhook",
      trace_id: "metrics-test",
    });
  });
  return batchMetricsStatement(env.DB, QUEUES.toD1, batchCounts(bodies, outcomes, nowMs), nowMs);
}

describe("sync metrics roll-up and pruning", () => {
  const HOUR_MS = 3_600_000;
  const NOW = Date.parse("2030-06-01T12:30:00.000Z");
  const KEEP = { minuteHours: 2, hourDays: 30 };

  it("rolling minutes into hours keeps every sum and every hour's p50 and p99", async () => {
    // Deterministic spread of lags over three hours of minutes, two entities.
    const lags: number[] = [];
    let x = 7;
    for (let m = 0; m < 180; m += 7) {
      const at = NOW - 4 * HOUR_MS + m * 60_000;
      const batch = Array.from({ length: 5 }, () => ((x = (x * 48271) % 2147483647), (x % 90_000) + 50));
      lags.push(...batch);
      await writeMinute(
        at,
        m % 2 ? "prospects" : "campaigns",
        ["applied", "applied", "applied", "applied", "applied"],
        batch,
      );
      await writeMinute(at, "prospects", ["stale", "failed"], []);
    }
    const before = await metricsSeries(env.DB, "day", NOW);
    const cutoff = NOW / 1000 - 2 * 3600;
    const old = (await rows()).filter((r) => r.bucket_start < cutoff).length;
    expect(old).toBeGreaterThan(0);

    const result = await rollUpMetrics(env.DB, KEEP, NOW);
    expect(result.minutesRolledUp).toBe(old);
    // The day view now adds hour rows and the minutes of the last 2 h: the same numbers.
    const after = await metricsSeries(env.DB, "day", NOW);
    expect(after.directions["to-d1"]).toEqual(before.directions["to-d1"]);
    const left = await rows();
    expect(left.filter((r) => r.span === 60).every((r) => r.bucket_start >= cutoff)).toBe(true);
    expect(left.some((r) => r.span === 60) && left.some((r) => r.span === 3600)).toBe(true);

    // And the percentiles are those of the raw lags, to the bucket.
    const sorted = [...lags].sort((a, b) => a - b);
    const exact = (q: number) => LAG_BOUNDS_MS[lagBucket(sorted[Math.ceil(q * sorted.length) - 1]!)];
    expect(after.directions["to-d1"].total).toMatchObject({
      applied: lags.length,
      stale: 26,
      failed: 26,
      p50: exact(0.5),
      p99: exact(0.99),
    });
    expect(lagPercentile([0, 0, 0], 0.5)).toBeNull();

    // A second run finds nothing to roll up and changes nothing.
    expect(await rollUpMetrics(env.DB, KEEP, NOW)).toMatchObject({ minutesRolledUp: 0, hoursPruned: 0 });
    expect((await metricsSeries(env.DB, "day", NOW)).directions).toEqual(after.directions);
  });

  it("keeps minutes for 2 hours and hours for 30 days, so the table stays bounded", async () => {
    // 40 days of hourly activity, then the cron runs hourly over the last day of it.
    const hours = Array.from({ length: 40 * 24 + 1 }, (_, h) => NOW - h * HOUR_MS);
    await env.DB.batch(hours.map((at) => minuteStatement(at, "prospects", ["applied"], [1_000])));
    for (let m = 0; m < 240; m += 10) await writeMinute(NOW - m * 60_000, "campaigns", ["applied"], [1_000]);
    await rollUpMetrics(env.DB, KEEP, NOW);
    const left = await rows();
    const oldestMinute = Math.min(...left.filter((r) => r.span === 60).map((r) => r.bucket_start));
    const oldestHour = Math.min(...left.filter((r) => r.span === 3600).map((r) => r.bucket_start));
    expect(oldestMinute).toBeGreaterThanOrEqual(NOW / 1000 - 2 * 3600);
    expect(oldestHour).toBeGreaterThanOrEqual(NOW / 1000 - 30 * 86_400);
    // Per (queue, entity): at most 3 h of minutes (2 h kept + 1 h between runs) and 30 days + 1 of hours.
    for (const entity of ["prospects", "campaigns"]) {
      const mine = left.filter((r) => r.entity === entity);
      expect(mine.filter((r) => r.span === 60).length).toBeLessThanOrEqual(180);
      expect(mine.filter((r) => r.span === 3600).length).toBeLessThanOrEqual(30 * 24 + 1);
    }
    // Nothing inside the 30 days was lost: each of its 720 hours is there once, as an hour or a minute row.
    expect(left.filter((r) => r.entity === "prospects").length).toBe(30 * 24);
    expect(left.filter((r) => r.entity === "prospects").every((r) => r.applied === 1)).toBe(true);
  });
});
