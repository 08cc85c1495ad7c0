import { describe, expect, it } from "vitest";
import migration0017 from "../migrations/supabase/0017_hubspot_atomic_audit.sql?raw";
import { asRole, type Tx } from "./support/as-role";

// Migration 0017: a connection change and its hubspot_audit_logs line in one SQL call, so one
// transaction: both or neither. Acting as the worker's role (service_role), as PostgREST would;
// each case runs in a transaction that is rolled back, and looks inside it (a savepoint takes the
// failing call) at what the call left.

let nextPortal = 90_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
const b64 = (bytes: number) => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(bytes))));
const sealed = (bytes = 40) => ({ ciphertext: b64(bytes), iv: b64(12) });

function saveArgs(portal: number, opts: { ciphertextBytes?: number } = {}) {
  return {
    portal_id: portal,
    scopes: ["oauth", "crm.objects.contacts.read"],
    token_key_id: "k1",
    access_token: sealed(opts.ciphertextBytes),
    refresh_token: sealed(opts.ciphertextBytes),
    expires_at: new Date(Date.now() + 1_800_000).toISOString(),
  };
}
const AUDIT = { user_id: "atomic@ops", ip_address: "198.51.100.4", user_agent: "test" };

const save = (tx: Tx, portal: number, opts: { ciphertextBytes?: number } = {}) =>
  tx`select public.sync_hubspot_connection_save_audited(${tx.json(saveArgs(portal, opts))}, ${tx.json(AUDIT)}) as r`;
const move = (tx: Tx, id: string, status: string) =>
  tx`select public.sync_hubspot_connection_move_audited(${id}::uuid, ${status}, null, ${tx.json(AUDIT)}) as r`;

/** The SQLSTATE the call failed with, the transaction kept usable by a savepoint; null when it succeeded. */
async function failure(tx: Tx, call: (sp: Tx) => Promise<unknown>): Promise<string | null> {
  try {
    await tx.savepoint((sp) => call(sp as unknown as Tx));
    return null;
  } catch (error) {
    return (error as { code?: string }).code ?? "?";
  }
}

async function state(tx: Tx, portal: number) {
  const [row] = await tx`select id, status, refresh_token_ciphertext is not null as has_tokens
                           from public.hubspot_connections where portal_id = ${portal}`;
  // One transaction: both lines share now(), and create sorts before update.
  const lines = row
    ? await tx`select operation, old_data ->> 'status' as was, new_data ->> 'status' as now, user_id, host(ip_address) as ip,
                      new_data::text as new_text
                 from public.hubspot_audit_logs where entity_id = ${String(row.id)} order by "timestamp", operation`
    : [];
  return { row, lines };
}

/** The migration once more, in the case's transaction: it must apply again cleanly (idempotent). */
const applyAgain = (tx: Tx) => tx.unsafe(migration0017);

/** A trigger refusing every audit line: what a failure between save and audit looks like, in this transaction only. */
const refuseAuditLines = (tx: Tx) =>
  tx.unsafe(`
    create function public.test_refuse_audit() returns trigger language plpgsql as
      $$ begin raise exception 'audit trail unavailable (test)'; end $$;
    create trigger test_refuse_audit before insert on public.hubspot_audit_logs
      for each row execute function public.test_refuse_audit();`);

describe("connect and disconnect are audited atomically (migration 0017)", () => {
  it("a save writes the connection and one create line; a later save one update line; no token in either", async () => {
    const portal = ++nextPortal;
    const outcome = await asRole(
      "service_role",
      async (tx) => {
        const [first] = await save(tx, portal);
        await save(tx, portal);
        return { first: first!.r, ...(await state(tx, portal)) };
      },
      { setup: applyAgain },
    );
    expect(outcome.ok).toBe(true);
    const { first, row, lines } = (outcome as { ok: true; value: any }).value;
    expect(first).toMatchObject({ portal_id: portal, status: "connected" });
    expect(row).toMatchObject({ status: "connected", has_tokens: true });
    expect(lines.map((l: any) => [l.operation, l.was, l.now, l.user_id, l.ip])).toEqual([
      ["create", null, "connected", "atomic@ops", "198.51.100.4"],
      ["update", "connected", "connected", "atomic@ops", "198.51.100.4"],
    ]);
    for (const l of lines) expect(l.new_text).not.toMatch(/ciphertext|access_token|refresh_token/);
  });

  it("a refused save writes no audit line", async () => {
    const portal = ++nextPortal;
    const outcome = await asRole("service_role", async (tx) => {
      const before = (
        await tx`select count(*)::int as n from public.hubspot_audit_logs where user_id = ${AUDIT.user_id}`
      )[0]!.n;
      // Ciphertext of 8 bytes: the table's token check refuses it.
      const code = await failure(tx, (sp) => save(sp, portal, { ciphertextBytes: 8 }));
      const after = (
        await tx`select count(*)::int as n from public.hubspot_audit_logs where user_id = ${AUDIT.user_id}`
      )[0]!.n;
      return { code, added: after - before, ...(await state(tx, portal)) };
    });
    expect(outcome).toMatchObject({ ok: true, value: { code: "23514", added: 0, row: undefined } });
  });

  it("an audit line that cannot be written leaves no saved connection, and no disconnect", async () => {
    const portal = ++nextPortal;
    const outcome = await asRole(
      "service_role",
      async (tx) => {
        const refusedSave = await failure(tx, (sp) => save(sp, portal));
        const afterSave = await state(tx, portal);
        // A connected row saved without an audit (as a token refresh does), then an audited disconnect.
        await tx`select public.sync_hubspot_connection_save(${tx.json(saveArgs(portal))})`;
        const { row } = await state(tx, portal);
        const refusedMove = await failure(tx, (sp) => move(sp, String(row!.id), "disconnected"));
        return { refusedSave, afterSave, refusedMove, afterMove: await state(tx, portal) };
      },
      { setup: refuseAuditLines },
    );
    expect(outcome).toMatchObject({
      ok: true,
      value: {
        refusedSave: "P0001",
        afterSave: { row: undefined, lines: [] },
        refusedMove: "P0001",
        afterMove: { row: { status: "connected", has_tokens: true }, lines: [] },
      },
    });
  });

  it("a disconnect writes one update line; a move the status machine refuses writes none", async () => {
    const portal = ++nextPortal;
    const outcome = await asRole("service_role", async (tx) => {
      await tx`select public.sync_hubspot_connection_save(${tx.json(saveArgs(portal))})`;
      const { row } = await state(tx, portal);
      const [done] = await move(tx, String(row!.id), "disconnected");
      const [refused] = await move(tx, String(row!.id), "error"); // disconnected → error is not a move
      const [unknown] = await move(tx, crypto.randomUUID(), "disconnected");
      return { done: done!.r, refused: refused!.r, unknown: unknown!.r, ...(await state(tx, portal)) };
    });
    const value = (outcome as { ok: true; value: any }).value;
    expect(value.done).toMatchObject({ refused: false, connection: { status: "disconnected" } });
    expect(value.refused).toMatchObject({ refused: true });
    expect(value.unknown).toBeNull();
    expect(value.row).toMatchObject({ status: "disconnected", has_tokens: false });
    expect(value.lines.map((l: any) => [l.operation, l.was, l.now])).toEqual([["update", "connected", "disconnected"]]);
  });

  it("anon and authenticated cannot call either function", async () => {
    for (const role of ["anon", "authenticated"] as const) {
      const saved = await asRole(role, (tx) => save(tx, ++nextPortal));
      expect(saved, role).toMatchObject({ ok: false, code: "42501" });
      // Also after the migration ran again (it ends with sync.restrict_api_access()).
      const moved = await asRole(role, (tx) => move(tx, crypto.randomUUID(), "disconnected"), { setup: applyAgain });
      expect(moved, role).toMatchObject({ ok: false, code: "42501" });
    }
  });
});
