import {
  refillWaitMs,
  DEFAULT_BUCKETS,
  type BucketSpec,
  type Clock,
  type RateBudget,
  type RateKind,
} from "./rate-budget";

/*
 * One statement per attempt, atomic in D1, so concurrent consumers (isolates, queue batches, the
 * cron) can never together take more than the bucket holds. ?1 portal, ?2 kind, ?3 capacity,
 * ?4 now (ms), ?5 refill per ms. The first use of a bucket inserts it full minus this request.
 * A clock behind the stored one refills nothing and does not move the bucket back in time.
 */
const TAKE_TOKEN = `
INSERT INTO hubspot_rate_budget (portal_id, kind, tokens, updated_ms)
VALUES (?1, ?2, ?3 - 1, ?4)
ON CONFLICT (portal_id, kind) DO UPDATE
  SET tokens = MIN(?3, tokens + MAX(0, ?4 - updated_ms) * ?5) - 1,
      updated_ms = MAX(updated_ms, ?4)
  WHERE MIN(?3, tokens + MAX(0, ?4 - updated_ms) * ?5) >= 1
RETURNING tokens`;

/** The portal's budget in D1 (migrations/d1/0012_hubspot_rate_budget.sql), shared by every consumer. */
export function d1RateBudget(
  db: D1Database,
  portalId: string,
  clock: Clock,
  buckets: Record<RateKind, BucketSpec> = DEFAULT_BUCKETS,
): RateBudget & { tryAcquire(kind: RateKind): Promise<number | null> } {
  /** Takes a token if there is one: the time it was taken at (ms), else null. */
  async function tryAcquire(kind: RateKind): Promise<number | null> {
    const spec = buckets[kind];
    const now = clock.now();
    const row = await db
      .prepare(TAKE_TOKEN)
      .bind(portalId, kind, spec.capacity, now, spec.refillPerMs)
      .first<{ tokens: number }>();
    return row === null ? null : now;
  }
  return {
    tryAcquire,
    async acquire(kind) {
      while ((await tryAcquire(kind)) === null) await clock.sleep(refillWaitMs(buckets[kind]));
    },
  };
}
