import { LAG_BOUNDS_MS } from "../../../../core/metrics/lag-histogram";

/** "≤ 2 s", "≤ 5 min", "over 28 h": a percentile is a bucket's upper bound, so it says "at most". */
export function lagText(ms: number | null): string {
  if (ms === null) return "—";
  if (ms === Infinity) return `over ${durationText(LAG_BOUNDS_MS[LAG_BOUNDS_MS.length - 1]!)}`;
  return `≤ ${durationText(ms)}`;
}

function durationText(ms: number): string {
  if (ms < 1_000) return `${ms} ms`;
  const s = ms / 1_000;
  if (s < 120) return `${s} s`;
  if (s < 7_200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 360) / 10} h`;
}

/** A point's start in UTC: "14:05" for minutes, "Dec 2 14:00" for hours. */
export function pointTime(unixSeconds: number, withDate: boolean): string {
  const iso = new Date(unixSeconds * 1000).toISOString();
  return withDate ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);
}
