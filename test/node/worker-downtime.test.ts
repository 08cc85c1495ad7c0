import { describe, expect, it } from "vitest";
import { startChaosStack } from "../chaos/chaos-stack";
import { compareStores } from "../chaos/compare";
import { seededRandom } from "../chaos/rng";

describe("worker stopped during writes", () => {
  it("loses the webhooks but the replica converges after restart, with no operator action", async () => {
    const stack = await startChaosStack({
      relayFaults: { dropRate: 0, duplicateRate: 0, delayRate: 0, maxDelayMs: 0, random: seededRandom(1) },
      worker: { d1ErrorRate: 0, crashRate: 0 },
      log: () => {},
    });
    try {
      const ids: string[] = [];
      await stack.withWorkerStopped(async () => {
        for (let i = 0; i < 40; i++) ids.push((await stack.sql`insert into prospects (name) values (${`Written while down ${i}`}) returning id`)[0]!.id);
        await stack.sql`update prospects set stage = 'enriching' where id = any(${ids.slice(0, 10)}::uuid[])`;
        await stack.sql`delete from prospects where id = any(${ids.slice(30)}::uuid[])`;
        await new Promise((r) => setTimeout(r, 1500)); // the relay tries, fails, and forgets them
      });
      expect(stack.relay.stats.failed).toBeGreaterThan(0); // webhooks really were lost

      let divergences = (await compareStores(stack)).divergences;
      for (let i = 0; i < 20 && divergences.length; i++) {
        await stack.fireCron(); // what production's every-minute cron does
        await new Promise((r) => setTimeout(r, 1500));
        divergences = (await compareStores(stack)).divergences;
      }
      expect(divergences).toEqual([]);
      const d1 = await stack.d1.query<{ n: number }>("SELECT count(*) AS n FROM prospects WHERE name LIKE 'Written while down%'");
      expect(d1[0]!.n).toBe(30);
    } finally {
      await stack.stop();
    }
  });
});
