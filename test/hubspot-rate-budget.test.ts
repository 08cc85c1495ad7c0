import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { d1RateBudget } from "../producers/hubspot/d1-rate-budget";
import { bucketFor, refillWaitMs, type BucketSpec } from "../producers/hubspot/rate-budget";

// The portal's HubSpot budget in D1, shared by every consumer: one atomic statement per token.
function clockAt(start: number) {
  const clock = { t: start, now: () => clock.t, sleep: async (ms: number) => void (clock.t += ms) };
  return clock;
}

const SEARCH = bucketFor(5, 1000);

/** The most grants in any window of `windowMs` (a rolling window, as HubSpot counts). */
function peak(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, lo = 0; i < sorted.length; i++) {
    while (sorted[lo]! <= sorted[i]! - windowMs) lo++;
    most = Math.max(most, i - lo + 1);
  }
  return most;
}

/** `consumers` callers at once, each taking `each` tokens through acquire(); the grant times. */
async function race(general: BucketSpec, portal: string, consumers: number, each: number) {
  const clock = clockAt(1_000_000);
  const budget = d1RateBudget(env.DB, portal, clock, { general, search: SEARCH });
  const times: number[] = [];
  await Promise.all(
    Array.from({ length: consumers }, async () => {
      for (let n = 0; n < each;) {
        const at = await budget.tryAcquire("general");
        if (at === null) await clock.sleep(refillWaitMs(general));
        else (times.push(at), n++);
      }
    }),
  );
  return times;
}

describe("HubSpot rate budget in D1", () => {
  it("concurrent acquires at one instant get exactly the bucket's tokens, then exactly its refill", async () => {
    const clock = clockAt(5_000);
    const general = bucketFor(100, 10_000); // 10 at once, 9 per second after
    const budget = d1RateBudget(env.DB, "portal-a", clock, { general, search: SEARCH });
    const burst = await Promise.all(Array.from({ length: 50 }, () => budget.tryAcquire("general")));
    expect(burst.filter((at) => at !== null)).toHaveLength(10);
    clock.t += 1000;
    const refill = await Promise.all(Array.from({ length: 50 }, () => budget.tryAcquire("general")));
    expect(refill.filter((at) => at !== null)).toHaveLength(9);
    // Buckets are per portal and per kind.
    const other = d1RateBudget(env.DB, "portal-b", clock, { general, search: SEARCH });
    expect(await other.tryAcquire("general")).not.toBeNull();
    expect(await budget.tryAcquire("search")).not.toBeNull();
  });

  it("several consumers together never exceed 100 requests in any rolling 10 s", async () => {
    const times = await race(bucketFor(100, 10_000), "portal-c", 4, 60);
    expect(times).toHaveLength(240);
    expect(peak(times, 10_000)).toBeLessThanOrEqual(100);
    expect(peak(times, 10_000)).toBeGreaterThanOrEqual(95); // and the budget is used, not wasted
  });

  it("a bucket as large as the limit would exceed it (what the burst/refill split prevents)", async () => {
    const times = await race({ capacity: 100, refillPerMs: 100 / 10_000 }, "portal-d", 4, 60);
    expect(peak(times, 10_000)).toBeGreaterThan(100);
  });

  it("a clock behind the bucket's refills nothing", async () => {
    const clock = clockAt(50_000);
    const budget = d1RateBudget(env.DB, "portal-e", clock, {
      general: { capacity: 2, refillPerMs: 0.001 },
      search: SEARCH,
    });
    expect(await budget.tryAcquire("general")).not.toBeNull();
    expect(await budget.tryAcquire("general")).not.toBeNull();
    expect(await budget.tryAcquire("general")).toBeNull();
    clock.t -= 10_000;
    expect(await budget.tryAcquire("general")).toBeNull();
    clock.t += 10_000 + 1000;
    expect(await budget.tryAcquire("general")).not.toBeNull();
  });

  it("acquire() waits (on the injected clock) until a token is there", async () => {
    const clock = clockAt(0);
    const budget = d1RateBudget(env.DB, "portal-f", clock, { general: bucketFor(100, 10_000), search: SEARCH });
    for (let i = 0; i < 12; i++) await budget.acquire("general");
    // 10 from the burst, then 2 more at 9 per second: the clock moved at least 2/9 s.
    expect(clock.t).toBeGreaterThanOrEqual(Math.floor((2 * 1000) / 9));
  });
});
