import { LAG_BOUNDS_MS } from "../../../../core/metrics/lag-histogram";
import type { MetricsSeries } from "../../../services/metrics-series";

/** Lag for the chart in seconds; above the last bucket it is drawn at the last bound (the table says "over"). */
const seconds = (ms: number | null) =>
  ms === null ? null : Math.min(ms, LAG_BOUNDS_MS[LAG_BOUNDS_MS.length - 1]!) / 1_000;

/** What /console/charts/data returns and console.js draws: uPlot's columns (unix seconds first). */
export function chartJson(series: MetricsSeries) {
  return {
    range: series.range,
    span: series.span,
    generatedAt: series.generatedAt,
    times: series.times,
    directions: Object.fromEntries(
      Object.entries(series.directions).map(([queue, d]) => [
        queue,
        {
          applied: d.applied,
          stale: d.stale,
          failed: d.failed,
          p50: d.p50.map(seconds),
          p99: d.p99.map(seconds),
          total: { ...d.total, p50: seconds(d.total.p50), p99: seconds(d.total.p99) },
        },
      ]),
    ),
  };
}
