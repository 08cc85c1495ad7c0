import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { validateEvent } from "../core/validate-event";
import { d1Replica } from "../core/stores/d1-replica";
import { deliver, insertCrmRows, upsertEvent } from "./support/fixtures";
import { d1Row } from "./support/helpers";

describe("crash safety: every message ends applied or redelivered, never half-written", () => {
  it("a batch is one D1 transaction: when one statement fails, nothing of the batch is written", async () => {
    const rows = await insertCrmRows();
    await env.DB.exec("ALTER TABLE mailboxes RENAME TO mailboxes_gone");
    try {
      const events = [upsertEvent("prospects", rows.prospects), upsertEvent("mailboxes", rows.mailboxes)].map((e) =>
        validateEvent(e, "d1"),
      );
      await expect(d1Replica(env.DB).apply(events)).rejects.toThrow(/no such table/);
      expect(await d1Row("prospects", String(rows.prospects.id))).toBeNull();

      // Through the consumer, the poison is isolated and its neighbour still applies.
      const { result, ids } = await deliver("to-d1", [
        upsertEvent("prospects", rows.prospects),
        upsertEvent("mailboxes", rows.mailboxes),
      ]);
      expect(result.explicitAcks.sort()).toEqual([...ids].sort()); // one applied, one handed to the DLQ
      expect(await d1Row("prospects", String(rows.prospects.id))).not.toBeNull();
    } finally {
      await env.DB.exec("ALTER TABLE mailboxes_gone RENAME TO mailboxes");
    }
  });

  it("a consumer that dies after its transaction committed gets the batch again, and the redelivery is a no-op", async () => {
    const rows = await insertCrmRows();
    const events = [upsertEvent("prospects", rows.prospects), upsertEvent("campaigns", rows.campaigns)];
    // D1 commits, then the isolate "dies" before any ack.
    const dying = {
      ...env,
      DB: {
        ...env.DB,
        prepare: env.DB.prepare.bind(env.DB),
        batch: async (s: D1PreparedStatement[]) => {
          await env.DB.batch(s);
          throw new Error("isolate evicted");
        },
      },
    } as unknown as typeof env;
    const crashed = await deliver("to-d1", events, { env: dying });
    expect(crashed.result.explicitAcks).toEqual([]);
    expect(crashed.result.retryMessages).toHaveLength(2);
    expect(await d1Row("prospects", String(rows.prospects.id))).not.toBeNull(); // committed work stays

    const redelivered = await deliver("to-d1", events, { attempts: 2 });
    expect(redelivered.result.explicitAcks.sort()).toEqual([...redelivered.ids].sort());
    const state = await d1Row("campaigns", String(rows.campaigns.id));
    expect(state!.version).toBe(1);
  });

  it("a transient D1 error before the write leaves nothing written and every message retried", async () => {
    const rows = await insertCrmRows();
    const flaky = {
      ...env,
      DB: {
        ...env.DB,
        prepare: env.DB.prepare.bind(env.DB),
        batch: async () => {
          throw new Error("D1_ERROR: Network connection lost.");
        },
      },
    } as unknown as typeof env;
    const { result } = await deliver("to-d1", [upsertEvent("prospects", rows.prospects)], { env: flaky });
    expect(result.retryMessages).toHaveLength(1);
    expect(await d1Row("prospects", String(rows.prospects.id))).toBeNull();
  });
});
