import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { sweepChangeLog } from "../producers/change-log-sweep";
import { queueBindings } from "../producers/publish";
import worker from "../src/index";
import { postgresRpc } from "../core/stores/supabase-postgres";
import { d1Row, pg, waitFor } from "./support/helpers";

const sweep = (opts = {}) =>
  sweepChangeLog({ rpc: postgresRpc(pg()), db: env.DB, queues: queueBindings(env) }, { graceSeconds: 0, ...opts });

describe("change-log sweep: changes whose webhook never arrived still reach D1", () => {
  it("the cron sweep delivers inserts, updates and deletes made while no webhook fired", async () => {
    const [a] = await pg()`insert into prospects (name) values ('Missed insert') returning id`;
    const [b] = await pg()`insert into prospects (name) values ('Missed delete') returning id`;
    await pg()`update prospects set stage = 'enriching' where id = ${a!.id}`;
    // b reached D1 once (through a webhook), then its delete's webhook was lost.
    await sweep();
    await waitFor(() => d1Row("prospects", b!.id), "b in D1");
    await pg()`delete from prospects where id = ${b!.id}`;

    // The scheduled handler is what production runs every minute; its grace period is 30 s, so
    // here the changes are handed to it after making them old enough by running the sweep with grace 0.
    await sweep();
    const ctx = createExecutionContext();
    await worker.scheduled!(createScheduledController({ cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);

    await waitFor(
      async () => (await d1Row("prospects", a!.id))?.stage === "enriching",
      "a at its latest version in D1",
    );
    await waitFor(async () => (await d1Row("prospects", b!.id)) === null, "b deleted in D1");
    const cursor = await env.DB.prepare(
      "SELECT txid, seq, horizon FROM sync_cursors WHERE name = 'supabase-change-log'",
    ).first();
    expect(cursor).not.toBeNull();
  });

  it("does not republish what the replica already holds", async () => {
    const [p] = await pg()`insert into prospects (name) values ('Already there') returning id`;
    await sweep();
    await waitFor(() => d1Row("prospects", p!.id), "row in D1");
    await pg()`update prospects set score = 1 where id = ${p!.id}`;
    await pg()`update sync.change_log set recorded_at = now() - interval '1 minute' where row_id = ${p!.id}`;
    // Other suites write to the same Postgres meanwhile, so look at what is published for this row.
    const published: Array<{ key: { id: string }; version: number }> = [];
    const spy = {
      ...env.TO_D1,
      sendBatch: async (msgs: Iterable<MessageSendRequest>) => {
        for (const m of msgs) published.push(m.body as never);
      },
    } as unknown as Queue;
    await env.DB.prepare("UPDATE sync_cursors SET txid = '0', seq = 0").run(); // sweep the whole log again
    await sweepChangeLog(
      { rpc: postgresRpc(pg()), db: env.DB, queues: { ...queueBindings(env), "to-d1": spy } },
      { graceSeconds: 0, maxBatches: 1000 },
    );
    const mine = published.filter((e) => e.key.id === p!.id);
    expect(mine.map((e) => e.version)).toEqual([2]); // version 1 is in D1 already; only the update goes out
  });

  it("a transaction opened before a sweep and committed after it is still delivered", async () => {
    const longTx = postgres(env.HYPERDRIVE!.connectionString, { max: 1, fetch_types: false });
    let commit!: () => void;
    const gate = new Promise<void>((resolve) => (commit = resolve));
    let lateId = "";
    let lateTxid = "";
    const inserted = new Promise<void>((resolve) => {
      void longTx.begin(async (tx) => {
        // Takes its seq (and xid) first …
        [{ id: lateId, txid: lateTxid }] = (await tx`insert into prospects (name) values ('Committed late')
          returning id, pg_current_xact_id()::text as txid`) as unknown as [{ id: string; txid: string }];
        resolve();
        await gate;
      });
    });
    await inserted;
    let earlyId = "";
    try {
      // … while a later transaction takes a higher seq and commits first.
      [{ id: earlyId }] =
        (await pg()`insert into prospects (name) values ('Committed early') returning id`) as unknown as [
          { id: string },
        ];
      const first = await sweep();
      // A seq cursor would now stand past the open transaction's entry; the horizon stops short of it.
      expect(BigInt(first.horizon!)).toBeLessThanOrEqual(BigInt(lateTxid));
      expect(BigInt(first.cursor.txid)).toBeLessThan(BigInt(lateTxid));
      expect(await d1Row("prospects", earlyId)).toBeNull(); // not swept yet either: it is past the horizon
    } finally {
      commit();
    }
    await waitFor(
      async () => (await pg()`select 1 from prospects where id = ${lateId}`).length === 1,
      "late commit visible",
    );
    await sweep();
    await waitFor(() => d1Row("prospects", lateId), "late-committed row in D1");
    await waitFor(() => d1Row("prospects", earlyId), "early row in D1");
  });

  it("an entry that can never be queued ends in failed_tasks with its reason instead of being lost", async () => {
    const [big] =
      await pg()`insert into prospects (name, website) values ('Huge', ${"x".repeat(130 * 1024)}) returning id`;
    const result = await sweep();
    expect(result.failed).toBeGreaterThanOrEqual(1);
    const task = await env.DB.prepare("SELECT error_code, queue, entity FROM failed_tasks WHERE row_id = ?1")
      .bind(big!.id)
      .first();
    expect(task).toEqual({ error_code: "EVENT_TOO_LARGE", queue: "to-d1", entity: "prospects" });
  });
});

describe("retention", () => {
  it("prunes expired tombstones, outbox rows and unexecuted replay plans, and the change log only behind the sweep cursor", async () => {
    const { pruneExpired, RETENTION_DAYS } = await import("../src/services/retention");
    const old = new Date(Date.now() - (RETENTION_DAYS + 1) * 86_400_000).toISOString();
    const id = crypto.randomUUID();
    await env.DB.prepare(
      "INSERT INTO sync_tombstones (entity, id, version, deleted_at) VALUES ('prospects', ?1, 3, ?2)",
    )
      .bind(id, old)
      .run();
    await env.DB.prepare(
      "INSERT INTO sync_tombstones (entity, id, version, deleted_at) VALUES ('prospects', ?1, 3, ?2)",
    )
      .bind(crypto.randomUUID(), new Date().toISOString())
      .run();
    const [p] = await pg()`insert into prospects (name) values ('Old change') returning id`;
    await pg()`update sync.change_log set recorded_at = now() - interval '20 days' where row_id = ${p!.id}`;

    // Replay plans: the frozen selection of one that expired unexecuted goes; an executed one's stays.
    const plan = (id: string, jobId: string | null) =>
      env.DB.batch([
        env.DB.prepare(
          `INSERT INTO replay_plans (id, queue, mode, override, filter, total, superseded, to_send, skipped, quarantined_excluded, replaying_excluded,
                                     by_entity, by_error, created_at, created_by, expires_at, job_id)
           VALUES (?1, 'to-d1', 'original', 0, '{}', 2, 0, 2, 0, 0, 0, '{}', '{}', ?2, 'test', ?2, ?3)`,
        ).bind(id, old, jobId),
        env.DB.prepare("INSERT INTO replay_plan_items (plan_id, seq, task_id) VALUES (?1, 1, 'a'), (?1, 2, 'b')").bind(
          id,
        ),
      ]);
    await plan("01JPLANEXP1RED000000000000", null);
    await plan("01JPLANEXECVTED00000000000", "01JJ0B00000000000000000000");

    await sweep(); // moves the cursor past the entry
    const result = await pruneExpired({ db: env.DB, rpc: postgresRpc(pg()) });
    expect(result.d1.tombstones).toBe(1);
    expect(result.d1.replayPlanItems).toBe(2);
    const kept = await env.DB.prepare("SELECT DISTINCT plan_id FROM replay_plan_items").all();
    expect(kept.results).toEqual([{ plan_id: "01JPLANEXECVTED00000000000" }]);
    expect(result.supabase!.change_log).toBeGreaterThanOrEqual(1);
    expect((await pg()`select count(*)::int as n from sync.change_log where row_id = ${p!.id}`)[0]!.n).toBe(0);
    await expect(pg()`select public.sync_prune('1 day', '0', 0)`).rejects.toThrow(/RETENTION_TOO_SHORT/);
  });

  it("wrangler.toml declares the crons the scheduler dispatches on", async () => {
    const { CRONS } = await import("../src/scheduled");
    const toml = (await import("../wrangler.toml?raw")).default;
    expect(toml).toContain(`crons = ["${CRONS.sweeps}", "${CRONS.hourly}"]`);
  });
});
