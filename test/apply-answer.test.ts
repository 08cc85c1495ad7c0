import { describe, expect, it } from "vitest";
import { applyBatch } from "../core/apply-batch";
import { postgresRpc } from "../core/stores/supabase-postgres";
import { supabaseReplica } from "../core/stores/supabase-replica";
import { deleteEvent, emailRow, upsertEvent } from "./support/fixtures";
import { pg } from "./support/helpers";

// Migration 0010: sync_apply_batch's answer names `conflict` only when true and the held row's
// `updated_at` only when the replica holds a newer version than the event; the rest as before.

type Answer = Array<{ event_id: string; current_version: number; conflict?: boolean; updated_at?: string }>;

const payload = (events: ReturnType<typeof upsertEvent>[]) =>
  events.map((e) => ({ id: e.id, entity: e.entity, op: e.op, key: e.key, version: e.version, row: e.row }));

describe("sync_apply_batch's answer (0010)", () => {
  it("lists every event with the version held, conflict only when true, updated_at only when the replica is newer", async () => {
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
    const apply = async (events: ReturnType<typeof upsertEvent>[]) =>
      (await pg()`select public.sync_apply_batch(${pg().json(payload(events) as never)}) as answer`)[0]!
        .answer as Answer;
    await apply([row(1, 2), row(2, 2), row(3, 2), row(5, 2)].map((r) => upsertEvent("emails", r)));
    await apply([deleteEvent("emails", String(row(4, 1).id), 5)]);

    const events = [
      upsertEvent("emails", row(1, 3, { subject: "Newer" })), // applied
      upsertEvent("emails", row(2, 1)), // stale: the replica holds v2
      upsertEvent("emails", row(5, 2, { subject: "Other state at v2" })), // same version, other state
      deleteEvent("emails", String(row(3, 1).id), 3), // tombstone, row deleted
      upsertEvent("emails", row(4, 4)), // below the tombstone at v5: not written
      upsertEvent("emails", row(6, 1)), // new row
      upsertEvent("emails", row(2, 2)), // the held state at the held version
    ];
    const byId = new Map((await apply(events)).map((a) => [a.event_id, a]));
    expect(events.map((e) => byId.get(e.id))).toEqual([
      { event_id: events[0]!.id, current_version: 3 },
      { event_id: events[1]!.id, current_version: 2, updated_at: "2025-01-01T00:02:00+00:00" },
      { event_id: events[2]!.id, current_version: 2, conflict: true },
      { event_id: events[3]!.id, current_version: 3 },
      { event_id: events[4]!.id, current_version: 5 },
      { event_id: events[5]!.id, current_version: 1 },
      { event_id: events[6]!.id, current_version: 2 },
    ]);

    // What the worker makes of it, through the same function.
    const again = [
      upsertEvent("emails", row(1, 3, { subject: "Newer" })),
      upsertEvent("emails", row(1, 2)),
      upsertEvent("emails", row(5, 2, { subject: "Other state at v2" })),
    ];
    expect(await applyBatch(supabaseReplica(postgresRpc(pg())), [again[0]!])).toEqual([{ kind: "applied" }]);
    expect(await applyBatch(supabaseReplica(postgresRpc(pg())), [again[1]!])).toEqual([{ kind: "stale" }]);
    expect(await applyBatch(supabaseReplica(postgresRpc(pg())), [again[2]!])).toEqual([
      { kind: "failed", error: expect.objectContaining({ code: "VERSION_CONTENT_CONFLICT" }) },
    ]);
  });
});
