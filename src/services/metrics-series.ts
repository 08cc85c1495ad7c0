import { HOUR, MINUTE } from "../../core/metrics/batch-metrics";
import { addHistograms, emptyHistogram, LAG_COLUMNS, lagPercentile } from "../../core/metrics/lag-histogram";
import { QUEUES } from "../../schemas/registry";

/** The charts' two views: the last hour by minute, the last day by hour. */
export const RANGES = {
  hour: { span: MINUTE, points: 60, label: "last hour", per: "minute" },
  day: { span: HOUR, points: 24, label: "last 24 hours", per: "hour" },
} as const;
export type Range = keyof typeof RANGES;

export const DIRECTIONS = [
  { queue: QUEUES.toD1, label: "Supabase → D1" },
  { queue: QUEUES.toSupabase, label: "D1 → Supabase" },
] as const;
export type Direction = (typeof DIRECTIONS)[number]["queue"];

export interface DirectionSeries {
  applied: number[];
  stale: number[];
  failed: number[];
  /** Lag percentiles per point in ms (bucket upper bounds); null: nothing applied then. */
  p50: Array<number | null>;
  p99: Array<number | null>;
  /** Over the whole range: counts summed, percentiles of the summed histogram (not of the points). */
  total: { applied: number; stale: number; failed: number; p50: number | null; p99: number | null };
}

export interface MetricsSeries {
  range: Range;
  /** Seconds per point. */
  span: number;
  /** Each point's start, unix seconds, oldest first; the last point is the current, partial one. */
  times: number[];
  directions: Record<Direction, DirectionSeries>;
  generatedAt: string;
}

interface Row {
  t: number;
  queue: string;
  applied: number;
  stale: number;
  failed: number;
  [lag: `lag_${number}`]: number;
}

/**
 * The series one chart view draws, from minute rows and, for the day, hour rows too (the last two
 * hours are still minutes until the cron rolls them up; grouping by hour sums both alike). Missing
 * points are zero. Lag percentiles above the last bucket bound are Infinity.
 *
 *   SELECT bucket_start - bucket_start % ?3 AS t, queue, sum(applied) AS applied, …, sum(lag_0) AS lag_0, …
 *     FROM sync_metrics WHERE span IN (60, ?3) AND bucket_start >= ?1 AND bucket_start < ?2 GROUP BY t, queue
 *
 * `span IN (…)` rather than `span <= …`: each span is then a range of the primary key, so a poll
 * reads only the rows it shows (D1 bills rows read), not the 30 days of hour rows.
 */
export async function metricsSeries(db: D1Database, range: Range, nowMs = Date.now()): Promise<MetricsSeries> {
  const { span, points } = RANGES[range];
  const current = Math.floor(nowMs / 1000 / span) * span;
  const from = current - (points - 1) * span;
  const times = Array.from({ length: points }, (_, i) => from + i * span);
  const sums = ["applied", "stale", "failed", ...LAG_COLUMNS].map((c) => `sum(${c}) AS ${c}`).join(", ");
  const { results } = await db
    .prepare(
      `SELECT bucket_start - bucket_start % ?3 AS t, queue, ${sums}
         FROM sync_metrics WHERE span IN (${MINUTE}, ?3) AND bucket_start >= ?1 AND bucket_start < ?2
        GROUP BY t, queue`,
    )
    .bind(from, current + span, span)
    .all<Row>();
  const directions = Object.fromEntries(
    DIRECTIONS.map(({ queue }) => {
      const histograms = times.map(() => emptyHistogram());
      const series: DirectionSeries = {
        applied: times.map(() => 0),
        stale: times.map(() => 0),
        failed: times.map(() => 0),
        p50: [],
        p99: [],
        total: { applied: 0, stale: 0, failed: 0, p50: null, p99: null },
      };
      for (const row of results.filter((r) => r.queue === queue)) {
        const i = (row.t - from) / span;
        series.applied[i] = row.applied;
        series.stale[i] = row.stale;
        series.failed[i] = row.failed;
        histograms[i] = LAG_COLUMNS.map((c) => Number(row[c as `lag_${number}`] ?? 0));
      }
      series.p50 = histograms.map((h) => lagPercentile(h, 0.5));
      series.p99 = histograms.map((h) => lagPercentile(h, 0.99));
      const all = histograms.reduce(addHistograms, emptyHistogram());
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      series.total = {
        applied: sum(series.applied),
        stale: sum(series.stale),
        failed: sum(series.failed),
        p50: lagPercentile(all, 0.5),
        p99: lagPercentile(all, 0.99),
      };
      return [queue, series];
    }),
  ) as Record<Direction, DirectionSeries>;
  return { range, span, times, directions, generatedAt: new Date(nowMs).toISOString() };
}
