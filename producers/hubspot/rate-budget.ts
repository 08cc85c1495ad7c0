/**
 * The request budget HubSpot gives a portal, shared by everything that calls HubSpot for it.
 * Published limits (developers.hubspot.com/apisbytier, "API usage guidelines"): apps using OAuth
 * get 100 requests per 10 seconds per portal (150 / 190 on higher tiers for private apps); the
 * search endpoints are limited separately to a few requests per second (5 in the reading,
 * 4 in some HubSpot material), and we count a search against both budgets.
 */
export type RateKind = "general" | "search";

export interface RateBudget {
  /** Resolves when one request of this kind may be sent now. */
  acquire(kind: RateKind): Promise<void>;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** A token bucket: `capacity` tokens at most, refilled at `refillPerMs`. */
export interface BucketSpec {
  capacity: number;
  refillPerMs: number;
}

/**
 * A bucket that can never exceed `limit` requests in ANY rolling window of `windowMs` (HubSpot's
 * policy is TEN_SECONDLY_ROLLING). A plain bucket of capacity `limit` refilling `limit` per window
 * allows almost 2 × limit in one window (a full burst, then a window's refill), so the burst is a
 * tenth of the limit and the refill the rest: burst + refill × window = limit.
 */
export function bucketFor(limit: number, windowMs: number): BucketSpec {
  const capacity = Math.max(1, Math.floor(limit / 10));
  return { capacity, refillPerMs: (limit - capacity) / windowMs };
}

/**
 * What we allow ourselves: below the published 100 / 10 s and 5 / s, because requests granted a
 * window apart can arrive closer together when network latency varies.
 */
export const DEFAULT_BUCKETS: Record<RateKind, BucketSpec> = {
  general: bucketFor(90, 10_000),
  search: bucketFor(4, 1_000),
};

/** How long to wait before asking again when a bucket is empty: one token's refill time. */
export function refillWaitMs(spec: BucketSpec, tokens = 0): number {
  return Math.max(1, Math.ceil((1 - tokens) / spec.refillPerMs));
}

/**
 * A budget held in this isolate's memory. Enough for one process (the local stand-in's tests, a
 * single consumer); several consumers of one portal share the D1 bucket (d1-rate-budget.ts).
 */
export function memoryRateBudget(clock: Clock, buckets: Record<RateKind, BucketSpec> = DEFAULT_BUCKETS): RateBudget {
  const state = new Map<RateKind, { tokens: number; at: number }>();
  return {
    async acquire(kind) {
      const spec = buckets[kind];
      for (;;) {
        const now = clock.now();
        const s = state.get(kind) ?? { tokens: spec.capacity, at: now };
        s.tokens = Math.min(spec.capacity, s.tokens + Math.max(0, now - s.at) * spec.refillPerMs);
        s.at = Math.max(s.at, now);
        state.set(kind, s);
        if (s.tokens >= 1) {
          s.tokens -= 1;
          return;
        }
        await clock.sleep(refillWaitMs(spec, s.tokens));
      }
    },
  };
}
