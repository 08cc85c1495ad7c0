/**
 * Lag (commit → applied) as a fixed log-scale histogram: counts per bucket, never samples. Summing
 * the histograms of many minutes gives exactly the histogram of all their events, so a percentile
 * computed after the hourly roll-up is the same as one computed over the raw minute rows.
 * Percentiles are exact to the bucket: "p99 ≤ 5 s" means the 99th-percentile event's lag lies in
 * (2 s, 5 s].
 *
 * Upper bounds in ms, a 1-2-5 series from 100 ms to ~28 h: fine where lag is healthy, coarse where
 * only the order of magnitude matters (an outage that the retries ride out for hours). One more
 * bucket holds everything above the last bound. The D1 table has one column per bucket
 * (lag_0 … lag_19, migrations/d1/0011_sync_metrics.sql): changing the bounds needs a migration.
 */
export const LAG_BOUNDS_MS = [
  100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000, 2_000_000,
  5_000_000, 10_000_000, 20_000_000, 50_000_000, 100_000_000,
] as const;

/** Bounded buckets plus the overflow bucket. */
export const LAG_BUCKETS = LAG_BOUNDS_MS.length + 1;

/** lag_0 … lag_19: the column of each bucket. */
export const LAG_COLUMNS: readonly string[] = Array.from({ length: LAG_BUCKETS }, (_, i) => `lag_${i}`);

export type LagHistogram = number[];

export const emptyHistogram = (): LagHistogram => new Array<number>(LAG_BUCKETS).fill(0);

/**
 * The bucket of a lag: the first whose upper bound is ≥ it. A negative lag (the two stores' clocks
 * disagree) counts as the smallest; NaN as the overflow, so a broken timestamp cannot pass for fast.
 */
export function lagBucket(lagMs: number): number {
  if (Number.isNaN(lagMs)) return LAG_BUCKETS - 1;
  const i = LAG_BOUNDS_MS.findIndex((bound) => lagMs <= bound);
  return i === -1 ? LAG_BUCKETS - 1 : i;
}

export function addHistograms(a: LagHistogram, b: readonly number[]): LagHistogram {
  return a.map((n, i) => n + (b[i] ?? 0));
}

/**
 * The q-quantile (0 < q ≤ 1) as the upper bound, in ms, of the bucket holding the event of rank
 * ceil(q·n); null when the histogram is empty. Infinity when that event is in the overflow bucket
 * (its lag is only known to exceed the last bound).
 */
export function lagPercentile(histogram: readonly number[], q: number): number | null {
  const total = histogram.reduce((sum, n) => sum + n, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i]!;
    if (seen >= rank) return i < LAG_BOUNDS_MS.length ? LAG_BOUNDS_MS[i]! : Infinity;
  }
  return Infinity;
}
