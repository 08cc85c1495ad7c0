import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { CHAOS_SECRETS } from "../chaos/chaos-stack";
import { startFaultFreeStack } from "../chaos/chaos-stack";
import { compareStores } from "../chaos/compare";

describe("worker stopped during writes", () => {
  it("loses the webhooks but the replica converges after restart, with no operator action", async () => {
    const stack = await startFaultFreeStack();
    try {
      const ids: string[] = [];
      await stack.withWorkerStopped(async () => {
        for (let i = 0; i < 40; i++)
          ids.push(
            (await stack.sql`insert into prospects (name) values (${`Written while down ${i}`}) returning id`)[0]!.id,
          );
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
      const d1 = await stack.d1.query<{ n: number }>(
        "SELECT count(*) AS n FROM prospects WHERE name LIKE 'Written while down%'",
      );
      expect(d1[0]!.n).toBe(30);

      // The operator CLI against the same worker: reconciliation agrees, status answers.
      const ops = (...args: string[]) =>
        promisify(execFile)(process.execPath, [
          "--import",
          "tsx",
          "tools/cli/ops.ts",
          ...args,
          "--json",
          "--url",
          stack.workerUrl,
          "--token",
          CHAOS_SECRETS.ADMIN_TOKEN,
        ]);
      const runs = JSON.parse((await ops("reconcile")).stdout) as Array<{
        entity: string;
        missing: number;
        extra: number;
        altered: number;
        status: string;
      }>;
      expect(runs.map((r) => r.entity)).toEqual(["prospects", "campaigns", "mailboxes", "inbox_items", "emails"]);
      expect(runs.every((r) => r.status === "complete" && r.missing + r.extra + r.altered === 0)).toBe(true);
      const status = await ops("status").then(
        (r) => r.stdout,
        (e: { stdout: string }) => e.stdout,
      ); // exit 2 = not healthy
      expect(
        JSON.parse(status).entities.find((e: { entity: string }) => e.entity === "prospects").rows.d1,
      ).toBeGreaterThanOrEqual(30);
    } finally {
      await stack.stop();
    }
  });
});
