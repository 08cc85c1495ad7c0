import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFaultFreeStack, type ChaosStack } from "../chaos/chaos-stack";
import { compareStores } from "../chaos/compare";

// Statement-level capture end to end on the real local stack: Postgres with the statement
// triggers `npm run webhooks:sql` installs by default, the pg_net relay (at most once, as pg_net),
// `wrangler dev` with local Queues and D1. Writes are made as service_role. No cron fires unless
// the test fires it, so what reaches D1 before that came through the batch endpoint.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let stack: ChaosStack;

beforeAll(async () => {
  stack = await startFaultFreeStack();
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

/** Polls D1 until `done` holds or a generous bound passes; the caller asserts on what it got. */
async function until<T>(probe: () => Promise<T>, done: (v: T) => boolean, boundMs = 180_000): Promise<T> {
  const deadline = Date.now() + boundMs;
  let value = await probe();
  while (!done(value) && Date.now() < deadline) {
    await sleep(500);
    value = await probe();
  }
  return value;
}

const d1Count = async (where: string) =>
  (await stack.d1.query<{ n: number }>(`SELECT count(*) AS n FROM prospects WHERE ${where}`))[0]!.n;

describe("statement-level capture on the real local stack", () => {
  it("a 10,000-row UPDATE reaches D1 intact, in 1 request per 500 rows, without the sweep", async () => {
    const n = 10_000;
    const sentBefore = stack.relay.stats.sent;
    await stack.apiSql`insert into prospects (name, city) select 'Bulk ' || g, 'Basel' from generate_series(1, ${n}::int) g`;
    expect(
      await until(
        () => d1Count("name LIKE 'Bulk %'"),
        (c) => c === n,
      ),
    ).toBe(n);
    const afterInsert = stack.relay.stats.sent;
    expect(afterInsert - sentBefore).toBe(n / 500);

    await stack.apiSql`update prospects set score = score + 3, city = 'Bern' where name like 'Bulk %'`;
    expect(
      await until(
        () => d1Count("name LIKE 'Bulk %' AND version = 2 AND city = 'Bern'"),
        (c) => c === n,
      ),
    ).toBe(n);
    const requests = stack.relay.stats.sent - afterInsert;
    expect(requests).toBeLessThanOrEqual(n / 100); // the target: requests ≤ 1 % of rows
    expect(requests).toBe(n / 500);
    expect(stack.relay.stats.failed).toBe(0);

    // Row by row, every column, every replicated entity: nothing lost, nothing altered.
    expect((await compareStores(stack)).divergences).toEqual([]);
  });

  it("a bulk statement while the worker is down is lost by pg_net and recovered by the sweep, nothing lost", async () => {
    const failedBefore = stack.relay.stats.failed;
    await stack.withWorkerStopped(async () => {
      await stack.apiSql`insert into prospects (name) select 'Down ' || g from generate_series(1, 3000) g`;
      await stack.apiSql`update prospects set stage = 'enriching' where name like 'Bulk %' and score = 3`;
      await stack.apiSql`delete from prospects where name like 'Bulk %7'`; // 1,000 of them
      await sleep(1500); // the relay sends, fails, and forgets them, as pg_net would
    });
    expect(stack.relay.stats.failed).toBeGreaterThan(failedBefore); // the requests really were lost
    // Nothing of the outage's writes came through the fast path.
    expect(await d1Count("name LIKE 'Down %'")).toBe(0);

    let divergences = (await compareStores(stack)).divergences;
    for (let i = 0; i < 30 && divergences.length; i++) {
      await stack.fireCron(); // what production's every-minute cron does
      await sleep(1500);
      divergences = (await compareStores(stack)).divergences;
    }
    expect(divergences).toEqual([]);
    expect(await d1Count("name LIKE 'Down %'")).toBe(3000);
    expect(await d1Count("name LIKE 'Bulk %' AND stage = 'enriching'")).toBe(9000);
    expect(await d1Count("name LIKE 'Bulk %'")).toBe(9000);
  });
});
