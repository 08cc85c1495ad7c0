import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { readCursor, sweepChangeLog } from "../producers/change-log-sweep";
import { queueBindings } from "../producers/publish";
import { postgresRpc } from "../core/stores/supabase-postgres";
import { d1Row, pg, waitFor } from "./support/helpers";

// Apart from test/change-log-sweep.test.ts: that file runs the scheduled handler with a test-made
// context, whose Postgres client raises an unhandled "Stream was cancelled" once it has been idle
// for 5 s, so tests added after it in that file made the run fail.
const sweep = (opts = {}) =>
  sweepChangeLog(
    { rpc: postgresRpc(pg()), db: env.DB, queues: queueBindings(env) },
    { graceSeconds: 0, maxBatches: 1000, ...opts },
  );

describe("change-log sweep: a bad entry is isolated, an outage is not a bad entry", () => {
  const cursorNow = () => readCursor(env.DB);
  const tasksFor = async (rowId: string) =>
    (
      await env.DB.prepare("SELECT event_id, error_code, failure_count FROM failed_tasks WHERE row_id = ?1")
        .bind(rowId)
        .all()
    ).results;
  const entryOf = async (rowId: string) =>
    (
      await pg()<
        Array<{ txid: string; seq: number }>
      >`select txid::text as txid, seq::int as seq from sync.change_log where row_id = ${rowId} order by seq limit 1`
    )[0]!;
  const past = (cursor: { txid: string; seq: number }, entry: { txid: string; seq: number }) =>
    BigInt(cursor.txid) > BigInt(entry.txid) || (cursor.txid === entry.txid && cursor.seq >= entry.seq);

  it("delivers the good entries around an oversized one and an unknown entity, records each once, and records nothing again on a rerun", async () => {
    await sweep();
    const start = await cursorNow();
    const [good1] = await pg()`insert into prospects (name) values ('Before the huge one') returning id`;
    // 70,000 Cyrillic characters: 140,000 bytes (a character count would call it 70,000).
    const [big] =
      await pg()`insert into prospects (name, website) values ('Huge Cyrillic', ${"я".repeat(70_000)}) returning id`;
    const stray = crypto.randomUUID();
    await pg()`insert into sync.change_log (entity, row_id, op, version, row_image) values ('invoices', ${stray}, 'upsert', 1, '{}')`;
    const [good2] = await pg()`insert into prospects (name) values ('After the huge one') returning id`;

    const first = await sweep();
    expect(first.error).toBeUndefined();
    expect(first.failed).toBeGreaterThanOrEqual(2);
    await waitFor(
      async () => (await d1Row("prospects", good1!.id)) && (await d1Row("prospects", good2!.id)),
      "both good rows in D1",
    );
    const bigTasks = await tasksFor(big!.id);
    expect(bigTasks).toEqual([expect.objectContaining({ error_code: "EVENT_TOO_LARGE", failure_count: 1 })]);
    expect((await tasksFor(stray)).map((t) => t.error_code)).toEqual(["UNKNOWN_ENTITY"]);
    expect(past(await cursorNow(), await entryOf(good2!.id))).toBe(true);

    // A run that crashed before storing its cursor: the next one meets the same entries again.
    await env.DB.prepare("UPDATE sync_cursors SET txid = ?1, seq = ?2 WHERE name = 'supabase-change-log'")
      .bind(start.txid, start.seq)
      .run();
    expect(await cursorNow()).toEqual(start);
    expect((await sweep()).error).toBeUndefined();
    expect(await tasksFor(big!.id)).toEqual(bigTasks);
    expect(await tasksFor(stray)).toHaveLength(1);
    const history = await env.DB.prepare("SELECT count(*) AS n FROM failed_task_history WHERE event_id = ?1")
      .bind(bigTasks[0]!.event_id)
      .first<{ n: number }>();
    expect(history!.n).toBe(1);
  });

  it("three valid ~119 KB Japanese rows (357 KB together) go out in byte-sized batches and the cursor moves on", async () => {
    await sweep(); // the page below holds just these three
    const website = "日".repeat(39_500); // 118,500 bytes in UTF-8, 39,500 UTF-16 characters
    const ids: string[] = [];
    for (const n of [1, 2, 3])
      ids.push(
        (await pg()`insert into prospects (name, website) values (${`Japanese ${n}`}, ${website}) returning id`)[0]!.id,
      );
    const result = await sweep();
    expect(result.error).toBeUndefined();
    expect(result.failed).toBe(0);
    expect(past(result.cursor, await entryOf(ids[2]!))).toBe(true);
    for (const id of ids) await waitFor(async () => (await d1Row("prospects", id))?.website === website, `${id} in D1`);
  });

  it("a queue outage records nothing, stops the cursor before the first unsent entry, and the next run delivers it", async () => {
    await sweep();
    const [p] = await pg()`insert into prospects (name) values ('Sent after the outage') returning id`;
    const down = () => {
      throw new Error("Queue sendBatch failed: Service Unavailable");
    };
    const refusing = { ...queueBindings(env), "to-d1": { send: down, sendBatch: down } as unknown as Queue };
    const outage = await sweepChangeLog({ rpc: postgresRpc(pg()), db: env.DB, queues: refusing }, { graceSeconds: 0 });
    expect(outage.error).toMatchObject({ code: "QUEUE_UNAVAILABLE", retryable: true });
    expect(outage.caughtUp).toBe(false);
    expect(await tasksFor(p!.id)).toEqual([]);
    expect(past(await cursorNow(), await entryOf(p!.id))).toBe(false);

    expect((await sweep()).error).toBeUndefined();
    await waitFor(() => d1Row("prospects", p!.id), "the row in D1 after the outage");
    expect(await tasksFor(p!.id)).toEqual([]);
  });
});
