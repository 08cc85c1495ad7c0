import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { applyBatch } from "../core/apply-batch";
import { d1Replica } from "../core/stores/d1-replica";
import { validateEvent } from "../core/validate-event";
import { deleteEvent, upsertEvent } from "./support/fixtures";
import { d1Row, pg, pgRow } from "./support/helpers";

// The D1 apply learns what it wrote from the upsert's RETURNING and reads back only the rest
// (core/stores/d1-replica.ts). Every outcome must still come out as the full read-back gave it,
// also when they all meet in one batch.

const OLD = "2025-01-01T00:00:00.000Z";

async function baseRow(): Promise<Record<string, unknown>> {
  const [p] = await pg()`insert into prospects (name) values ('Outcome base') returning id`;
  return pgRow("prospects", String(p!.id));
}

describe("D1 apply: one batch with every outcome", () => {
  it("applied, stale, conflict, regression, tombstones, newest per row and not-applied each come out as before", async () => {
    const base = await baseRow();
    const row = (name: string, version: number, extra: Record<string, unknown> = {}) => ({
      ...base,
      id: ids[name],
      name,
      version,
      updated_at: OLD,
      ...extra,
    });
    const ids = Object.fromEntries(
      [
        "update",
        "stale",
        "regress",
        "conflict",
        "dup",
        "insert",
        "belowTomb",
        "atTomb",
        "del",
        "delConflict",
        "twice",
        "ignored",
      ].map((n) => [n, crypto.randomUUID()]),
    ) as Record<string, string>;
    const d1 = d1Replica(env.DB);

    // What D1 holds before the batch.
    await applyBatch(
      d1,
      [
        row("update", 2),
        row("stale", 3),
        row("regress", 3),
        row("conflict", 2),
        row("dup", 2),
        row("del", 1),
        row("delConflict", 3),
      ].map((r) => upsertEvent("prospects", r)),
    );
    await applyBatch(d1, [deleteEvent("prospects", ids.belowTomb!, 5), deleteEvent("prospects", ids.atTomb!, 5)]);
    // A row D1 silently refuses to write: what "not applied" looks like from the outside.
    await env.DB.exec(
      `CREATE TRIGGER test_ignore_insert BEFORE INSERT ON prospects WHEN NEW.id = '${ids.ignored}' BEGIN SELECT RAISE(IGNORE); END`,
    );
    try {
      const outcomes = await applyBatch(d1, [
        upsertEvent("prospects", row("update", 3)),
        upsertEvent("prospects", row("stale", 2, { updated_at: "2024-12-31T23:00:00.000Z" })),
        upsertEvent("prospects", row("regress", 2, { updated_at: new Date().toISOString() })),
        upsertEvent("prospects", { ...row("conflict", 2), name: "Other state at v2" }),
        upsertEvent("prospects", row("dup", 2)),
        upsertEvent("prospects", row("insert", 1)),
        upsertEvent("prospects", row("belowTomb", 4)),
        upsertEvent("prospects", row("atTomb", 5)),
        deleteEvent("prospects", ids.del!, 2),
        deleteEvent("prospects", ids.delConflict!, 3),
        upsertEvent("prospects", row("twice", 1)),
        upsertEvent("prospects", row("twice", 2)),
        upsertEvent("prospects", row("ignored", 1)),
      ]);
      const failed = (code: string, retryable: boolean) =>
        expect.objectContaining({ kind: "failed", error: expect.objectContaining({ code, retryable }) });
      expect(outcomes).toEqual([
        { kind: "applied" },
        { kind: "stale" },
        failed("VERSION_REGRESSION", false),
        failed("VERSION_CONTENT_CONFLICT", false),
        { kind: "applied" },
        { kind: "applied" },
        { kind: "stale" },
        failed("VERSION_CONTENT_CONFLICT", false),
        { kind: "applied" },
        failed("VERSION_CONTENT_CONFLICT", false),
        { kind: "stale" },
        { kind: "applied" },
        failed("NOT_APPLIED", true),
      ]);
    } finally {
      await env.DB.exec("DROP TRIGGER test_ignore_insert");
    }

    const held = async (name: string) => {
      const r = await d1Row("prospects", ids[name]!);
      return r && { version: r.version, name: r.name };
    };
    expect(await held("update")).toEqual({ version: 3, name: "update" });
    expect(await held("stale")).toEqual({ version: 3, name: "stale" });
    expect(await held("regress")).toEqual({ version: 3, name: "regress" });
    expect(await held("conflict")).toEqual({ version: 2, name: "conflict" });
    expect(await held("insert")).toEqual({ version: 1, name: "insert" });
    expect(await held("belowTomb")).toBeNull();
    expect(await held("atTomb")).toBeNull();
    expect(await held("del")).toBeNull();
    expect(await held("delConflict")).toEqual({ version: 3, name: "delConflict" });
    expect(await held("twice")).toEqual({ version: 2, name: "twice" });
    expect(await held("ignored")).toBeNull();
  });

  it("a call naming one row twice (not applyBatch's shape) reads that row back inside the transaction", async () => {
    const base = await baseRow();
    const id = crypto.randomUUID();
    const v2 = validateEvent(upsertEvent("prospects", { ...base, id, version: 2, name: "v2" }), "d1");
    const v1 = validateEvent(upsertEvent("prospects", { ...base, id, version: 1, name: "v1" }), "d1");
    const held = await d1Replica(env.DB).apply([v2, v1]);
    expect(held.get(v2.event.id)).toMatchObject({ version: 2, conflict: false });
    expect(held.get(v1.event.id)).toMatchObject({ version: 2, conflict: false });
    expect(await d1Row("prospects", id)).toMatchObject({ version: 2, name: "v2" });
  });
});
