import { describe, expect, it } from "vitest";
import type postgres from "postgres";
import { deleteEvent, emailRow, upsertEvent } from "./support/fixtures";
import { pg } from "./support/helpers";

// Migration 0012: sync_apply_batch hands each entity to its generated sync.apply_<entity>, whose
// static statements must do exactly what the generic (dynamic) statements do.

class Rollback extends Error {}

/** Runs `fn` in a transaction that is always rolled back; returns what it returned. */
async function rolledBack<T>(fn: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> {
  let result: T | undefined;
  try {
    await pg().begin(async (tx) => {
      result = await fn(tx);
      throw new Rollback();
    });
  } catch (error) {
    if (!(error instanceof Rollback)) throw error;
  }
  return result!;
}

type Answer = Array<{ event_id: string; current_version: number; conflict?: boolean; updated_at?: string }>;

const payload = (events: ReturnType<typeof upsertEvent>[]) =>
  events.map((e) => ({ id: e.id, entity: e.entity, op: e.op, key: e.key, version: e.version, row: e.row }));

describe("sync_apply_batch through generated per-entity functions (0012)", () => {
  it("the generated function and the generic statements answer alike and leave the same rows and tombstones", async () => {
    const [owner] = await pg()`insert into prospects (name) values ('Owner 0012') returning id`;
    const row = (n: number, version: number, extra: Record<string, unknown> = {}) =>
      emailRow({
        id: `0012a000-0000-4000-8000-${String(n).padStart(12, "0")}`,
        prospect_id: owner!.id,
        version,
        sent_at: "2025-01-01T00:00:00.000Z",
        created_at: "2025-01-01T00:00:00.000Z",
        updated_at: new Date(Date.UTC(2025, 0, 1) + version * 60_000).toISOString(),
        ...extra,
      });
    const before = [row(1, 2), row(2, 2), row(3, 2), row(5, 2)];
    await pg()`select public.sync_apply_batch(${pg().json(payload(before.map((r) => upsertEvent("emails", r))) as never)})`;
    await pg()`select public.sync_apply_batch(${pg().json(payload([deleteEvent("emails", String(row(4, 1).id), 5)]) as never)})`;

    const events = [
      upsertEvent("emails", row(1, 3, { subject: "Newer" })), // applied
      upsertEvent("emails", row(2, 1)), // stale: the replica holds v2 (updated_at reported)
      upsertEvent("emails", row(5, 2, { subject: "Other state at v2" })), // conflict
      deleteEvent("emails", String(row(3, 1).id), 3), // tombstone, row deleted
      upsertEvent("emails", row(4, 4)), // below the tombstone at v5: not written
      upsertEvent("emails", row(6, 1)), // new row
      upsertEvent("emails", row(2, 2)), // the held state at the held version: no conflict
    ];
    const ids = events.map((e) => e.key.id);
    const run = (call: (tx: postgres.TransactionSql, batch: unknown) => Promise<Array<{ answer: Answer }>>) =>
      rolledBack(async (tx) => {
        const [{ answer }] = (await call(tx, payload(events))) as [{ answer: Answer }];
        const rows =
          await tx`select to_jsonb(e) as r from public.emails e where e.id in (select value::uuid from jsonb_array_elements_text(${tx.json(ids)})) order by e.id`;
        const tombs =
          await tx`select id, version from sync.tombstones where entity = 'emails' and id in (select value::uuid from jsonb_array_elements_text(${tx.json(ids)})) order by id`;
        return { answer: [...answer].sort((a, b) => a.event_id.localeCompare(b.event_id)), rows, tombs };
      });
    const generated = await run(
      (tx, batch) => tx`select sync.apply_emails(${tx.json(batch as never)}) as answer` as never,
    );
    const generic = await run(
      (tx, batch) =>
        tx`select sync.apply_entity_generic('emails', '{}'::text[], ${tx.json(batch as never)}) as answer` as never,
    );
    expect(generated).toEqual(generic);

    const byId = new Map(generated.answer.map((a) => [a.event_id, a]));
    const held = (i: number) => byId.get(events[i]!.id);
    expect(held(0)).toEqual({ event_id: events[0]!.id, current_version: 3 });
    expect(held(1)).toEqual({ event_id: events[1]!.id, current_version: 2, updated_at: expect.any(String) });
    expect(held(2)).toEqual({ event_id: events[2]!.id, current_version: 2, conflict: true });
    expect(held(3)).toEqual({ event_id: events[3]!.id, current_version: 3 });
    expect(held(4)).toEqual({ event_id: events[4]!.id, current_version: 5 });
    expect(held(5)).toEqual({ event_id: events[5]!.id, current_version: 1 });
    expect(held(6)).toEqual({ event_id: events[6]!.id, current_version: 2 });
    expect(generated.rows.map((r) => (r.r as { id: string }).id)).toEqual(
      [1, 2, 5, 6].map((n) => String(row(n, 1).id)),
    );
  });

  it("is used only while it matches its table: a column added since goes the generic way until regenerated", async () => {
    const generatedFor =
      await pg()`select f.entity, f.columns = sync.column_count(f.entity) as current from sync.apply_functions f order by 1`;
    expect(generatedFor).toEqual([
      { entity: "contacts", current: true },
      { entity: "emails", current: true },
    ]);

    const [owner] = await pg()`insert into prospects (name) values ('Owner 0012 b') returning id`;
    const id = "0012b000-0000-4000-8000-000000000001";
    const notes = await rolledBack(async (tx) => {
      await tx`alter table public.emails add column note text`;
      const apply = (version: number, note: string) =>
        tx`select public.sync_apply_batch(${tx.json(payload([upsertEvent("emails", emailRow({ id, prospect_id: owner!.id, version, note }))]) as never)})`;
      await apply(1, "kept by the generic statements");
      const [generic] = await tx`select note from public.emails where id = ${id}`;
      await tx`select sync.create_apply_function('emails')`;
      await apply(2, "kept by the regenerated function");
      const [regenerated] = await tx`select note from public.emails where id = ${id}`;
      return [generic!.note, regenerated!.note];
    });
    expect(notes).toEqual(["kept by the generic statements", "kept by the regenerated function"]);
  });
});
