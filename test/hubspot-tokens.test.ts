import { describe, expect, it } from "vitest";
import { moveConnection, readConnectionTokens, rotateTokenKeys, saveConnection } from "../core/hubspot/connections";
import { openToken, parseTokenKeys, sealToken, type TokenKeyring } from "../core/hubspot/token-cipher";
import { postgresRpc } from "../core/stores/supabase-postgres";
import { asRole } from "./support/as-role";
import { pg } from "./support/helpers";

// HubSpot OAuth tokens sealed with AES-GCM (WebCrypto) under HUBSPOT_TOKEN_KEYS, stored in the real
// Postgres as ciphertext + iv + key id only, and re-sealed by key rotation.

const rawKey = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
const KEY1 = rawKey();
const KEY2 = rawKey();
const rpc = () => postgresRpc(pg());

const latin1 = (bytes: Uint8Array) => String.fromCharCode(...bytes);
const hex = (text: string) => [...new TextEncoder().encode(text)].map((b) => b.toString(16).padStart(2, "0")).join("");

async function refusal(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; message: string; retryable: boolean };
  }
  throw new Error("expected a refusal");
}

let portal = 40_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
const tokensFor = (p: number) => ({
  accessToken: `CJ-access-${p}-${crypto.randomUUID()}`,
  refreshToken: `na1-refresh-${p}-${crypto.randomUUID()}`,
  expiresAt: "2026-12-02T12:30:00.000Z",
});

describe("token cipher", () => {
  it("round trip: opens what it sealed, with a fresh iv each time; the ciphertext is not the token", async () => {
    const ring = await parseTokenKeys(`k1:${KEY1}`);
    const a = await sealToken(ring, "secret-access-token", "hubspot_connections:1:access_token");
    const b = await sealToken(ring, "secret-access-token", "hubspot_connections:1:access_token");
    expect(a.keyId).toBe("k1");
    expect(a.iv).not.toBe(b.iv);
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(atob(a.ciphertext)).not.toContain("secret-access-token");
    expect(await openToken(ring, a, "hubspot_connections:1:access_token")).toBe("secret-access-token");
    expect(await openToken(ring, b, "hubspot_connections:1:access_token")).toBe("secret-access-token");
  });

  it("refuses a wrong key, an unknown key id, a tampered ciphertext or iv, and a token moved elsewhere", async () => {
    const ring = await parseTokenKeys(`k1:${KEY1}`);
    const ctx = "hubspot_connections:7:refresh_token";
    const sealed = await sealToken(ring, "refresh-me", ctx);

    const impostor = await parseTokenKeys(`k1:${KEY2}`); // same id, other key material
    expect(await refusal(openToken(impostor, sealed, ctx))).toMatchObject({
      code: "TOKEN_DECRYPT_FAILED",
      retryable: false,
    });
    expect(await refusal(openToken(await parseTokenKeys(`k9:${KEY1}`), sealed, ctx))).toMatchObject({
      code: "TOKEN_KEY_UNKNOWN",
    });

    const bytes = Uint8Array.from(atob(sealed.ciphertext), (c) => c.charCodeAt(0));
    bytes[0]! ^= 1;
    const tampered = { ...sealed, ciphertext: btoa(String.fromCharCode(...bytes)) };
    expect(await refusal(openToken(ring, tampered, ctx))).toMatchObject({ code: "TOKEN_DECRYPT_FAILED" });
    const otherIv = { ...sealed, iv: (await sealToken(ring, "x", ctx)).iv };
    expect(await refusal(openToken(ring, otherIv, ctx))).toMatchObject({ code: "TOKEN_DECRYPT_FAILED" });
    // Copied to another portal's row, or into the access token's column: does not open either.
    expect(await refusal(openToken(ring, sealed, "hubspot_connections:8:refresh_token"))).toMatchObject({
      code: "TOKEN_DECRYPT_FAILED",
    });
    expect(await refusal(openToken(ring, sealed, "hubspot_connections:7:access_token"))).toMatchObject({
      code: "TOKEN_DECRYPT_FAILED",
    });
    // And the untouched token still opens: the refusals above were about the changes.
    expect(await openToken(ring, sealed, ctx)).toBe("refresh-me");
  });

  it("reads HUBSPOT_TOKEN_KEYS newest first and refuses an unusable secret without quoting key material", async () => {
    const ring = await parseTokenKeys(` k2:${KEY2},\n k1:${KEY1} `);
    expect(ring.newest).toBe("k2");
    expect([...ring.keys.keys()]).toEqual(["k2", "k1"]);

    expect(await refusal(parseTokenKeys(undefined))).toMatchObject({ code: "CONFIG_MISSING", retryable: true });
    expect(await refusal(parseTokenKeys("  "))).toMatchObject({ code: "CONFIG_MISSING" });
    const short = btoa("sixteen bytes!!!");
    for (const bad of [KEY1, `:${KEY1}`, `k 1:${KEY1}`, `k1:${short}`, `k1:not*base64`, `k1:${KEY1},k1:${KEY2}`]) {
      const error = await refusal(parseTokenKeys(bad));
      expect(error, bad).toMatchObject({ code: "TOKEN_KEYS_INVALID", retryable: true });
      expect(error.message).not.toContain(KEY1);
      expect(error.message).not.toContain(KEY2);
    }
  });
});

describe("HubSpot connections in Postgres", () => {
  it("hold ciphertext, iv and key id only: no column, not even service_role's view, has the token", async () => {
    const ring = await parseTokenKeys(`k1:${KEY1}`);
    const p = ++portal;
    const tokens = tokensFor(p);
    const saved = await saveConnection(
      { rpc: rpc(), ring },
      { portalId: p, scopes: ["crm.objects.contacts.read"], tokens },
    );
    expect(saved).toMatchObject({ portal_id: p, status: "connected", token_key_id: "k1" });
    expect(JSON.stringify(saved)).not.toContain(tokens.accessToken);

    const asService = await asRole(
      "service_role",
      (tx) => tx`select to_jsonb(c)::text as j, access_token_ciphertext, refresh_token_ciphertext,
                        octet_length(access_token_iv) as iv_bytes
                   from public.hubspot_connections c where portal_id = ${p}`,
    );
    expect(asService.ok).toBe(true);
    const [row] = (asService as { value: Array<Record<string, any>> }).value;
    for (const secret of [tokens.accessToken, tokens.refreshToken]) {
      expect(row!.j).not.toContain(secret);
      expect(row!.j).not.toContain(hex(secret));
      expect(latin1(row!.access_token_ciphertext)).not.toContain(secret);
      expect(latin1(row!.refresh_token_ciphertext)).not.toContain(secret);
    }
    expect(row!.iv_bytes).toBe(12);

    const read = await readConnectionTokens({ rpc: rpc(), ring }, saved.id);
    expect(read.tokens).toEqual(tokens);
    // Without the key, the database alone gives nothing back.
    expect(
      await refusal(readConnectionTokens({ rpc: rpc(), ring: await parseTokenKeys(`k1:${KEY2}`) }, saved.id)),
    ).toMatchObject({
      code: "TOKEN_DECRYPT_FAILED",
    });
  });

  it("refuses, in the database, a token that is not sealed (no iv, no key id) and tokens kept after a disconnect", async () => {
    const p = ++portal;
    const plain =
      await pg()`insert into hubspot_connections (portal_id, status, access_token_ciphertext, refresh_token_ciphertext, expires_at)
      values (${p}, 'connected', convert_to('plain-token', 'UTF8'), convert_to('plain-refresh', 'UTF8'), now())`.catch(
        (e: { code: string }) => e,
      );
    expect(plain).toMatchObject({ code: "23514" });

    const ring = await parseTokenKeys(`k1:${KEY1}`);
    const saved = await saveConnection({ rpc: rpc(), ring }, { portalId: p, scopes: [], tokens: tokensFor(p) });
    const kept = await pg()`update hubspot_connections set status = 'disconnected' where id = ${saved.id}`.catch(
      (e: { code: string }) => e,
    );
    expect(kept).toMatchObject({ code: "23514" });
    await pg()`update hubspot_connections set status = 'disconnected', access_token_ciphertext = null, access_token_iv = null,
                 refresh_token_ciphertext = null, refresh_token_iv = null where id = ${saved.id}`;
    // disconnected → connected skips the new authorization (pending): the status machine refuses it.
    const skip = await pg()`update hubspot_connections set status = 'connected' where id = ${saved.id}`.catch(
      (e: { code: string; message: string }) => e,
    );
    expect(skip).toMatchObject({ code: "23514", message: expect.stringMatching(/INVALID_TRANSITION/) });
  });

  it("moves along the connection status machine: error with its reason, disconnect forgets the tokens, reconnect via pending", async () => {
    const ring = await parseTokenKeys(`k1:${KEY1}`);
    const p = ++portal;
    const saved = await saveConnection({ rpc: rpc(), ring }, { portalId: p, scopes: [], tokens: tokensFor(p) });
    const failed = await moveConnection(rpc(), saved.id, "error", "refresh answered 400 invalid_grant");
    expect(failed).toMatchObject({ status: "error", last_error: "refresh answered 400 invalid_grant" });
    const gone = await moveConnection(rpc(), saved.id, "disconnected");
    expect(gone).toMatchObject({ status: "disconnected", token_key_id: null, expires_at: null });
    expect((await readConnectionTokens({ rpc: rpc(), ring }, saved.id)).tokens).toBeNull();
    const [raw] =
      await pg()`select coalesce(access_token_ciphertext, refresh_token_ciphertext) as t from hubspot_connections where id = ${saved.id}`;
    expect(raw!.t).toBeNull();

    const skip = await refusal(moveConnection(rpc(), saved.id, "error", "x"));
    expect(skip).toMatchObject({ code: "INVALID_TRANSITION", details: { from: "disconnected", allowed: ["pending"] } });
    expect(await moveConnection(rpc(), saved.id, "pending")).toMatchObject({ status: "pending" });
    const back = await saveConnection({ rpc: rpc(), ring }, { portalId: p, scopes: [], tokens: tokensFor(p) });
    expect(back).toMatchObject({ id: saved.id, status: "connected", last_error: null });
    expect(await refusal(moveConnection(rpc(), crypto.randomUUID(), "error", "x"))).toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("rotation re-seals every connection under the newest key; the old key can then be removed", async () => {
    const old = await parseTokenKeys(`k1:${KEY1}`);
    const portals = [++portal, ++portal, ++portal];
    const saved = [];
    for (const p of portals)
      saved.push({
        p,
        tokens: tokensFor(p),
        row: await saveConnection({ rpc: rpc(), ring: old }, { portalId: p, scopes: [], tokens: tokensFor(p) }),
      });
    // saveConnection sealed fresh tokens; read back what is stored.
    for (const s of saved) s.tokens = (await readConnectionTokens({ rpc: rpc(), ring: old }, s.row.id)).tokens!;

    const rotated: TokenKeyring = await parseTokenKeys(`k2:${KEY2},k1:${KEY1}`);
    const report = await rotateTokenKeys({ rpc: rpc(), ring: rotated }, { pageSize: 2 });
    // Other test files keep connections sealed under keys of their own: rotation reports those as
    // failed (it cannot open them) and goes on; none of this test's may be among them.
    const mine = new Set(saved.map((s) => s.row.id));
    expect(report.failed.filter((f) => mine.has(f.id))).toEqual([]);
    expect(report.resealed).toBeGreaterThanOrEqual(portals.length);
    const keyIds =
      await pg()`select token_key_id from hubspot_connections where portal_id = any(${`{${portals.join(",")}}`}::bigint[]) order by portal_id`;
    expect(keyIds.map((r) => r.token_key_id)).toEqual(["k2", "k2", "k2"]);

    // A second run finds nothing left under k1 ...
    const second = await rotateTokenKeys({ rpc: rpc(), ring: rotated });
    expect(second).toMatchObject({ resealed: 0, raced: 0 });
    expect(second.failed.filter((f) => mine.has(f.id))).toEqual([]);
    // ... so k1 can go: the newest key alone opens every token, the old one alone opens none.
    const newOnly = await parseTokenKeys(`k2:${KEY2}`);
    for (const s of saved) {
      expect((await readConnectionTokens({ rpc: rpc(), ring: newOnly }, s.row.id)).tokens).toEqual(s.tokens);
      expect(await refusal(readConnectionTokens({ rpc: rpc(), ring: old }, s.row.id))).toMatchObject({
        code: "TOKEN_KEY_UNKNOWN",
      });
    }
  });

  it("a rotation write loses to a refresh that sealed new tokens in between (compare-and-set)", async () => {
    const ring = await parseTokenKeys(`k1:${KEY1}`);
    const p = ++portal;
    const first = await saveConnection({ rpc: rpc(), ring }, { portalId: p, scopes: [], tokens: tokensFor(p) });
    const [before] =
      await pg()`select encode(access_token_ciphertext, 'base64') as c from hubspot_connections where id = ${first.id}`;
    const refreshed = tokensFor(p);
    await saveConnection({ rpc: rpc(), ring }, { portalId: p, scopes: [], tokens: refreshed }); // the refresh
    const stale = await rpc().call<boolean>("sync_hubspot_connection_reseal", {
      p_id: first.id,
      p: {
        token_key_id: "k2",
        expected_key_id: "k1",
        expected_access_ciphertext: before!.c,
        access_token: { ciphertext: before!.c, iv: btoa("123456789012") },
        refresh_token: { ciphertext: before!.c, iv: btoa("123456789012") },
      },
    });
    expect(stale).toBe(false);
    expect((await readConnectionTokens({ rpc: rpc(), ring }, first.id)).tokens).toEqual(refreshed);
  });
});

describe("the HubSpot sync's tables for the API roles", () => {
  const tables = ["hubspot_connections", "sync_sessions", "sync_logs", "hubspot_audit_logs", "error_logs"];

  it("anon and authenticated can neither read nor write them; RLS is on with no policy", async () => {
    for (const role of ["anon", "authenticated"] as const) {
      for (const table of tables) {
        for (const statement of [`select * from public.${table}`, `delete from public.${table}`]) {
          const result = await asRole(role, (tx) => tx.unsafe(statement));
          expect(result, `${role}: ${statement}`).toMatchObject({ ok: false, code: "42501" });
        }
      }
      const call = await asRole(role, (tx) => tx`select public.sync_hubspot_session_get(gen_random_uuid())`);
      expect(call, `${role} calls a sync function`).toMatchObject({ ok: false, code: "42501" });
    }
    const rls = await pg()`select c.relname, c.relrowsecurity,
        (select count(*) from pg_policy p where p.polrelid = c.oid)::int as policies
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relname = any(${`{${[...tables, "contacts"].join(",")}}`}::text[]) order by c.relname`;
    expect(rls).toHaveLength(tables.length + 1);
    for (const r of rls) expect(r, String(r.relname)).toMatchObject({ relrowsecurity: true, policies: 0 });
  });

  it("contacts, a replica: authenticated and service_role may only read it", async () => {
    for (const role of ["authenticated", "service_role"] as const) {
      const write = await asRole(role, (tx) => tx`update public.contacts set version = 9007199254740992`);
      expect(write, role).toMatchObject({ ok: false, code: "42501" });
    }
    expect(await asRole("anon", (tx) => tx`select count(*) from public.contacts`)).toMatchObject({
      ok: false,
      code: "42501",
    });
    expect(await asRole("service_role", (tx) => tx`select count(*) from public.contacts`)).toMatchObject({ ok: true });
  });
});
