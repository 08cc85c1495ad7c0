import { HOUR, MINUTE } from "../../core/metrics/batch-metrics";
import { LAG_COLUMNS } from "../../core/metrics/lag-histogram";

const SUMMED = ["applied", "stale", "failed", ...LAG_COLUMNS];

/**
 * Hourly: sums minute buckets older than `minuteHours` into hour buckets, deletes those minutes,
 * and deletes hour buckets older than `hourDays` — in one transaction, so a minute is never counted
 * twice or lost. Sums are exact and the lag is a histogram, so totals and percentiles of an hour
 * are the same before and after. Minutes of one hour may be rolled by two runs (the cutoff is not
 * on the hour); the upsert adds the later ones to the hour row. What bounds the table:
 * migrations/d1/0011_sync_metrics.sql.
 *
 *   INSERT INTO sync_metrics (span, bucket_start, queue, entity, applied, …)
 *   SELECT 3600, bucket_start - bucket_start % 3600, queue, entity, sum(applied), …
 *     FROM sync_metrics WHERE span = 60 AND bucket_start < ?1 GROUP BY 2, 3, 4
 *   ON CONFLICT (span, bucket_start, queue, entity) DO UPDATE SET applied = applied + excluded.applied, …
 *   DELETE FROM sync_metrics WHERE span = 60 AND bucket_start < ?1
 *   DELETE FROM sync_metrics WHERE span = 3600 AND bucket_start < ?1
 */
export async function rollUpMetrics(
  db: D1Database,
  keep: { minuteHours: number; hourDays: number },
  nowMs = Date.now(),
): Promise<{ minutesRolledUp: number; hoursWritten: number; hoursPruned: number }> {
  const now = Math.floor(nowMs / 1000);
  const minuteCutoff = Math.floor((now - keep.minuteHours * 3600) / MINUTE) * MINUTE;
  const hourCutoff = now - keep.hourDays * 86_400;
  const [rolled, minutes, hours] = await db.batch([
    db
      .prepare(
        `INSERT INTO sync_metrics (span, bucket_start, queue, entity, ${SUMMED.join(", ")})
         SELECT ${HOUR}, bucket_start - bucket_start % ${HOUR}, queue, entity, ${SUMMED.map((c) => `sum(${c})`).join(", ")}
           FROM sync_metrics WHERE span = ${MINUTE} AND bucket_start < ?1
          GROUP BY bucket_start - bucket_start % ${HOUR}, queue, entity
         ON CONFLICT (span, bucket_start, queue, entity) DO UPDATE SET ${SUMMED.map((c) => `${c} = ${c} + excluded.${c}`).join(", ")}`,
      )
      .bind(minuteCutoff),
    db.prepare(`DELETE FROM sync_metrics WHERE span = ${MINUTE} AND bucket_start < ?1`).bind(minuteCutoff),
    db.prepare(`DELETE FROM sync_metrics WHERE span = ${HOUR} AND bucket_start < ?1`).bind(hourCutoff),
  ]);
  return {
    minutesRolledUp: minutes!.meta.changes,
    hoursWritten: rolled!.meta.changes,
    hoursPruned: hours!.meta.changes,
  };
}
