import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { applyBatch } from "../core/apply-batch";
import { d1Replica } from "../core/stores/d1-replica";
import { postgresRpc } from "../core/stores/supabase-postgres";
import { supabaseReplica } from "../core/stores/supabase-replica";
import { canonicalRow as canonical } from "../schemas/canonical-row";
import { deleteEvent, deliver, emailRow, insertCrmRows, upsertEvent } from "./support/fixtures";
import { d1Row, pg, pgRow } from "./support/helpers";

const d1 = () => d1Replica(env.DB);
const supabase = () => supabaseReplica(postgresRpc(pg()));

/** A prospect in Postgres, so that emails replicated there satisfy their foreign key. */
async function prospectId(): Promise<string> {
  const id = crypto.randomUUID();
  await pg()`insert into prospects (id, name) values (${id}, 'Email target')`;
  return id;
}

async function pgEmail(id: string) {
  const [row] = await pg()`select to_jsonb(e) as j from public.emails e where id = ${id}`;
  return (row?.j as Record<string, unknown>) ?? null;
}

function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe("every entity in its direction", () => {
  it("Supabase -> D1: prospects, campaigns, mailboxes and inbox_items arrive identical (through the to-d1 queue handler)", async () => {
    const rows = await insertCrmRows();
    const events = Object.entries(rows).map(([entity, row]) => upsertEvent(entity as never, row));
    const { result, ids } = await deliver("to-d1", events);
    expect(result.explicitAcks.sort()).toEqual([...ids].sort());
    expect(result.retryMessages).toEqual([]);
    for (const [entity, row] of Object.entries(rows)) {
      const replica = await d1Row(entity, String(row.id));
      expect(replica, entity).not.toBeNull();
      expect(canonical(entity, replica!)).toEqual(canonical(entity, row));
    }
  });

  it("D1 -> Supabase: emails arrive identical (through the to-supabase queue handler)", async () => {
    const row = emailRow({ prospect_id: await prospectId(), sent_at: "2025-03-01T08:00:00.120Z" });
    const { result, ids } = await deliver("to-supabase", [upsertEvent("emails", row, { source: "d1-outbox" })]);
    expect(result.explicitAcks).toEqual(ids);
    expect(canonical("emails", (await pgEmail(String(row.id)))!)).toEqual(canonical("emails", row));
  });
});

describe.each([
  ["D1", "prospects", d1],
  ["Supabase", "emails", supabase],
] as const)("version rule in %s", (_store, entity, target) => {
  async function makeVersions(n: number): Promise<Array<Record<string, unknown>>> {
    const base =
      entity === "emails" ? emailRow({ prospect_id: await prospectId() }) : (await insertCrmRows()).prospects;
    return Array.from({ length: n }, (_, i) => ({
      ...base,
      version: i + 1,
      ...(entity === "emails" ? { subject: `v${i + 1}` } : { name: `v${i + 1}` }),
    }));
  }
  const read = (id: string) => (entity === "emails" ? pgEmail(id) : d1Row(entity, id));

  it("a duplicate is a no-op (stale), the row is unchanged", async () => {
    const [v1] = await makeVersions(1);
    const event = upsertEvent(entity, v1!);
    expect(await applyBatch(target(), [event])).toEqual([{ kind: "applied" }]);
    const before = await read(String(v1!.id));
    expect(await applyBatch(target(), [event])).toEqual([{ kind: "applied" }]); // same version: idempotent
    expect(await applyBatch(target(), [event, event])).toEqual([{ kind: "applied" }, { kind: "stale" }]);
    expect(await read(String(v1!.id))).toEqual(before);
  });

  it("any delivery order converges to the newest version (5 versions + delete, 8 orders, one batch or one by one)", async () => {
    for (let seed = 1; seed <= 8; seed++) {
      const versions = await makeVersions(5);
      const id = String(versions[0]!.id);
      const events = versions.map((v) => upsertEvent(entity, v));
      const ordered = shuffle(events, seed);
      if (seed % 2) await applyBatch(target(), ordered);
      else for (const e of ordered) await applyBatch(target(), [e]);
      const row = await read(id);
      expect(row?.version, `seed ${seed}`).toBe(5);
      expect(row?.[entity === "emails" ? "subject" : "name"]).toBe("v5");

      // Then a delete at v6 mixed with replays of every older version: the row stays deleted.
      const replays = shuffle([deleteEvent(entity, id, 6), ...events], seed + 100);
      await applyBatch(target(), replays);
      expect(await read(id), `seed ${seed}`).toBeNull();
    }
  });

  it("a delete followed by a late older upsert does not resurrect the row", async () => {
    const [v1, v2] = await makeVersions(2);
    const id = String(v1!.id);
    await applyBatch(target(), [upsertEvent(entity, v1!)]);
    expect(await applyBatch(target(), [deleteEvent(entity, id, 3)])).toEqual([{ kind: "applied" }]);
    expect(await applyBatch(target(), [upsertEvent(entity, v2!), upsertEvent(entity, v1!)])).toEqual([
      { kind: "stale" },
      { kind: "stale" },
    ]);
    expect(await read(id)).toBeNull();
    // A delete that arrives before any upsert also blocks the older upserts that follow.
    const [w1] = await makeVersions(1);
    await applyBatch(target(), [deleteEvent(entity, String(w1!.id), 2)]);
    expect(await applyBatch(target(), [upsertEvent(entity, w1!)])).toEqual([{ kind: "stale" }]);
    expect(await read(String(w1!.id))).toBeNull();
  });

  it("a re-created row continues above its tombstone and is applied", async () => {
    const [v1] = await makeVersions(1);
    const id = String(v1!.id);
    await applyBatch(target(), [upsertEvent(entity, v1!), deleteEvent(entity, id, 2)]);
    expect(await applyBatch(target(), [upsertEvent(entity, { ...v1!, version: 3 })])).toEqual([{ kind: "applied" }]);
    expect((await read(id))?.version).toBe(3);
  });
});

describe("authoritative side", () => {
  it("Postgres stamps version and updated_at itself, skips no-op updates, and re-inserts continue above the tombstone", async () => {
    const id = crypto.randomUUID();
    await pg()`insert into prospects (id, name, version, updated_at) values (${id}, 'Client sets version', 99, '2000-01-01Z')`;
    const first = await pgRow("prospects", id);
    expect(first.version).toBe(1);
    expect(String(first.updated_at) > "2020").toBe(true);
    await pg()`update prospects set name = name where id = ${id}`;
    expect((await pgRow("prospects", id)).version).toBe(1);
    await pg()`update prospects set score = 7 where id = ${id}`;
    expect((await pgRow("prospects", id)).version).toBe(2);
    await pg()`delete from prospects where id = ${id}`;
    await pg()`insert into prospects (id, name) values (${id}, 'Back again')`;
    expect((await pgRow("prospects", id)).version).toBe(4);
    const log = await pg()`select op, version from sync.change_log where row_id = ${id} order by seq`;
    expect(log.map((r) => `${r.op}@${r.version}`)).toEqual(["upsert@1", "upsert@2", "delete@3", "upsert@4"]);
  });

  it("a change that rolls back leaves no change-log entry", async () => {
    const id = crypto.randomUUID();
    await pg()
      .begin(async (tx) => {
        await tx`insert into prospects (id, name) values (${id}, 'Rolled back')`;
        throw new Error("abort");
      })
      .catch(() => {});
    expect((await pg()`select count(*)::int as n from sync.change_log where row_id = ${id}`)[0]!.n).toBe(0);
  });

  it("the apply function refuses to write an authoritative table", async () => {
    const rows = await insertCrmRows();
    const [outcome] = await applyBatch(supabase(), [upsertEvent("prospects", rows.prospects)]);
    expect(outcome).toMatchObject({ kind: "failed", error: { code: "WRONG_DIRECTION", retryable: false } });
    await expect(
      pg()`select public.sync_apply_batch(${pg().json([{ id: "x", entity: "prospects", op: "delete", key: { id: String(rows.prospects.id) }, version: 9, row: null }])})`,
    ).rejects.toThrow(/NOT_A_REPLICA/);
  });
});
