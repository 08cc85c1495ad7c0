import { describe, expect, it } from "vitest";
import { SyncError } from "../core/errors";
import { postgresRpc, sqlLiteral } from "../core/stores/supabase-postgres";
import { supabaseReplica } from "../core/stores/supabase-replica";
import { emailRow, upsertEvent } from "./support/fixtures";
import { pg } from "./support/helpers";

// Text that would end or escape a naively quoted literal, under either setting of
// standard_conforming_strings, plus a dollar quote, a comment, non-ASCII and escapes JSON writes.
const HOSTILE = [
  "it's",
  "\\",
  "\\'",
  "'\\",
  "\\''); drop table public.emails; --",
  "$$ select 1 $$",
  "/* */ -- ",
  "Zürich — 東京 🚀",
  'quote " and \\" and \\\\"',
  "line\nbreak\ttab\r\u0001",
  "\\u0041 is not A",
];

describe("postgresRpc: arguments inlined as literals", () => {
  it("sqlLiteral doubles quotes and backslashes inside an escape string, and casts", () => {
    expect(sqlLiteral("it's \\ ok", "text")).toBe("E'it''s \\\\ ok'::text");
    expect(sqlLiteral(null, "uuid")).toBe("null::uuid");
    expect(sqlLiteral(undefined, "text")).toBe("null::text");
    expect(sqlLiteral(42, "bigint")).toBe("E'42'::bigint");
    expect(sqlLiteral(12345678901234567890n, "bigint")).toBe("E'12345678901234567890'::bigint");
    expect(sqlLiteral([{ a: "'" }], "jsonb")).toBe(`E'[{"a":"''"}]'::jsonb`);
  });

  it("sqlLiteral refuses values it cannot encode exactly, as permanent errors", () => {
    for (const [value, type] of [
      [{}, "uuid"],
      [Number.NaN, "integer"],
      [true, "text"],
      ["a\u0000b", "text"],
      ["x", "text); drop"],
    ] as const) {
      let caught: unknown;
      try {
        sqlLiteral(value, type);
      } catch (error) {
        caught = error;
      }
      expect(caught, `${String(value)} as ${type}`).toBeInstanceOf(SyncError);
      expect((caught as SyncError).retryable).toBe(false);
    }
  });

  it("every literal reads back as exactly the text it encodes, under both string settings", async () => {
    for (const scs of ["on", "off"]) {
      const rows = await pg().begin(async (tx) => {
        await tx.unsafe(`set local standard_conforming_strings = ${scs}`);
        return tx.unsafe(
          `select ${HOSTILE.map((s, i) => `${sqlLiteral(s, "text")} as c${i}`).join(", ")}, ${sqlLiteral(HOSTILE, "jsonb")} as j`,
        );
      });
      const row = rows[0]!;
      HOSTILE.forEach((s, i) =>
        expect(row[`c${i}`], `${JSON.stringify(s)} with standard_conforming_strings ${scs}`).toBe(s),
      );
      expect(row.j).toEqual(HOSTILE);
    }
  });

  it("sync_apply_batch stores hostile text byte for byte and the table survives", async () => {
    const prospect = crypto.randomUUID();
    await pg()`insert into prospects (id, name) values (${prospect}, 'Literal target')`;
    const rows = HOSTILE.map((s) => emailRow({ prospect_id: prospect, subject: s, body: `${s}|${s}`, error: s }));
    const outcomes = await supabaseReplica(postgresRpc(pg())).apply(
      rows.map((row) => ({ event: upsertEvent("emails", row, { source: "d1-outbox" }), row })) as never,
    );
    expect([...outcomes.values()].map(({ version, conflict }) => ({ version, conflict }))).toEqual(
      rows.map(() => ({ version: 1, conflict: false })),
    );
    const stored = await pg()`select id, subject, body, error from public.emails where prospect_id = ${prospect}`;
    const byId = new Map(stored.map((r) => [String(r.id), r]));
    for (const row of rows) {
      const got = byId.get(String(row.id))!;
      expect([got.subject, got.body, got.error]).toEqual([row.subject, row.body, row.error]);
    }
  });

  it("typed arguments (null uuid, bigint, integer, text) reach the function as before", async () => {
    const page = await postgresRpc(pg()).call<Array<{ id: string }>>("sync_read_page", {
      p_entity: "prospects",
      p_after: null,
      p_until: null,
      p_limit: 2,
    });
    expect(Array.isArray(page)).toBe(true);
    expect(page.length).toBeLessThanOrEqual(2);
    const changes = await postgresRpc(pg()).call<{ entries: unknown[] }>("sync_changes_after", {
      p_txid: "0",
      p_seq: 0,
      p_limit: 1,
    });
    expect(changes.entries.length).toBeLessThanOrEqual(1);
  });

  it("a malformed typed argument is a permanent data error from Postgres", async () => {
    const error = await postgresRpc(pg())
      .call("sync_read_page", {
        p_entity: "prospects",
        p_after: "not-a-uuid'); select 1; --",
        p_until: null,
        p_limit: 1,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SyncError);
    expect((error as SyncError).retryable).toBe(false);
    expect((error as SyncError).message).toMatch(/22P02/);
  });
});
