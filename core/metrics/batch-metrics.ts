import type { SyncEvent } from "../../schemas/event";
import { emptyHistogram, LAG_COLUMNS, lagBucket, type LagHistogram } from "./lag-histogram";

/** Seconds a minute bucket covers; the hourly roll-up writes 3600-second buckets. */
export const MINUTE = 60;
export const HOUR = 3600;

/** The entity of a message whose body names none (it still counts as a failure). */
export const NO_ENTITY = "?";

/**
 * Events re-sent by an operator or a repair carry an old row image: their "lag" is the age of the
 * problem they fix, not the pipeline's delay, so they count as applied but stay out of the lag.
 */
const NOT_CAPTURE = new Set(["replay", "backfill", "reconcile"]);

export type OutcomeKind = "applied" | "stale" | "failed";

interface Counts {
  entity: string;
  applied: number;
  stale: number;
  failed: number;
  lag: LagHistogram;
}

/**
 * Commit → applied, in ms, for an applied event captured by the pipeline; null when it has no
 * meaningful lag. The commit time is the row's `updated_at` (stamped by the authoritative store's
 * write) for an upsert; a delete has no row, so its event's `occurred_at` (capture time, a lower
 * bound on the lag) stands in.
 */
export function commitLagMs(body: unknown, appliedAtMs: number): number | null {
  const event = body as Partial<SyncEvent> | null;
  if (!event || typeof event !== "object" || event.replay || NOT_CAPTURE.has(String(event.source))) return null;
  const committed = event.op === "upsert" ? event.row?.updated_at : event.occurred_at;
  const at = Date.parse(String(committed));
  return Number.isFinite(at) ? appliedAtMs - at : null;
}

/** Per-entity counts and lag histogram of one batch, from each message body and its outcome. */
export function batchCounts(bodies: readonly unknown[], outcomes: readonly OutcomeKind[], nowMs: number): Counts[] {
  const byEntity = new Map<string, Counts>();
  bodies.forEach((body, i) => {
    const named = (body as Partial<SyncEvent> | null)?.entity;
    const entity = typeof named === "string" && named.length <= 64 ? named : NO_ENTITY;
    const counts = byEntity.get(entity) ?? { entity, applied: 0, stale: 0, failed: 0, lag: emptyHistogram() };
    const outcome = outcomes[i]!;
    counts[outcome]++;
    if (outcome === "applied") {
      const lag = commitLagMs(body, nowMs);
      if (lag !== null) counts.lag[lagBucket(lag)]!++;
    }
    byEntity.set(entity, counts);
  });
  return [...byEntity.values()];
}

const lagColumns = LAG_COLUMNS.join(", ");

/**
 * One statement for a whole batch (all its entities in a single JSON parameter), to add to the
 * consumer's bookkeeping `db.batch`: no round trip of its own. It adds to the minute bucket of
 * `nowMs`; coalesce() keeps NOT NULL from ever refusing it, as a refusal would roll back the
 * bookkeeping it shares a transaction with.
 *
 *   INSERT INTO sync_metrics (span, bucket_start, queue, entity, applied, stale, failed, lag_0, …)
 *   SELECT 60, ?2, ?3, coalesce(json_extract(j.value, '$.entity'), '?'),
 *          coalesce(json_extract(j.value, '$.applied'), 0), …, coalesce(json_extract(j.value, '$.lag[0]'), 0), …
 *     FROM json_each(?1) j WHERE true
 *   ON CONFLICT (span, bucket_start, queue, entity) DO UPDATE SET
 *     applied = applied + excluded.applied, …, lag_0 = lag_0 + excluded.lag_0, …
 */
export function batchMetricsStatement(
  db: D1Database,
  queue: string,
  counts: readonly Counts[],
  nowMs: number,
): D1PreparedStatement {
  const bucketStart = Math.floor(nowMs / 1000 / MINUTE) * MINUTE;
  const values = LAG_COLUMNS.map((_, i) => `coalesce(json_extract(j.value, '$.lag[${i}]'), 0)`).join(", ");
  const sums = ["applied", "stale", "failed", ...LAG_COLUMNS].map((c) => `${c} = ${c} + excluded.${c}`).join(", ");
  return db
    .prepare(
      `INSERT INTO sync_metrics (span, bucket_start, queue, entity, applied, stale, failed, ${lagColumns})
       SELECT ${MINUTE}, ?2, ?3, coalesce(json_extract(j.value, '$.entity'), '${NO_ENTITY}'),
              coalesce(json_extract(j.value, '$.applied'), 0), coalesce(json_extract(j.value, '$.stale'), 0),
              coalesce(json_extract(j.value, '$.failed'), 0), ${values}
         FROM json_each(?1) j WHERE true
       ON CONFLICT (span, bucket_start, queue, entity) DO UPDATE SET ${sums}`,
    )
    .bind(JSON.stringify(counts), bucketStart, queue);
}
