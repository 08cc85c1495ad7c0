import { env } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { z } from "zod";
import { hubspotConnectionSchema, hubspotDisconnectedSchema } from "../schemas/hubspot/connection";
import { readConnectionTokens } from "../core/hubspot/connections";
import { parseTokenKeys } from "../core/hubspot/token-cipher";
import { postgresRpc } from "../core/stores/supabase-postgres";
import { ORIGIN, sendWith } from "./support/console";
import { pg, SECRETS } from "./support/helpers";

// Connecting a HubSpot portal: GET /v1/hubspot/connect → HubSpot's authorize page (the stand-in,
// a real HTTP server the worker reaches from workerd) → GET /v1/hubspot/callback. The state is
// signed and single use; every refusal leaves nothing saved; tokens are stored as ciphertext.

const hubspot = inject("hubspot");
const KEYS = `k1:${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;
const HUBSPOT_ENV = {
  HUBSPOT_CLIENT_ID: hubspot.clientId,
  HUBSPOT_CLIENT_SECRET: hubspot.clientSecret,
  HUBSPOT_API_BASE: hubspot.url,
  HUBSPOT_AUTH_BASE: hubspot.url,
  HUBSPOT_TOKEN_KEYS: KEYS,
};
const ADMIN = { authorization: `Bearer ${SECRETS.admin}`, "x-operator": "alice@ops" };

const send = (path: string, opts: Parameters<typeof sendWith>[2] = {}, overrides: Record<string, unknown> = {}) =>
  sendWith({ ...HUBSPOT_ENV, ...overrides }, path, opts);

/** Starts a connect as alice and follows HubSpot's (the stand-in's) redirect: the callback's path and query. */
async function authorize(): Promise<{ callback: string; state: string; code: string }> {
  const start = await send("/v1/hubspot/connect", { headers: ADMIN });
  expect(start.status).toBe(302);
  const authorizeUrl = new URL(start.headers.get("location")!);
  expect(`${authorizeUrl.origin}${authorizeUrl.pathname}`).toBe(`${hubspot.url}/oauth/authorize`);
  expect(authorizeUrl.searchParams.get("client_id")).toBe(hubspot.clientId);
  expect(authorizeUrl.searchParams.get("redirect_uri")).toBe(`${ORIGIN}/v1/hubspot/callback`);
  expect(authorizeUrl.searchParams.get("scope")!.split(" ")).toContain("crm.objects.contacts.read");
  const back = await fetch(authorizeUrl, { redirect: "manual" });
  expect(back.status).toBe(302);
  const callback = new URL(back.headers.get("location")!);
  expect(`${callback.origin}${callback.pathname}`).toBe(`${ORIGIN}/v1/hubspot/callback`);
  return {
    callback: `${callback.pathname}${callback.search}`,
    state: callback.searchParams.get("state")!,
    code: callback.searchParams.get("code")!,
  };
}

const latin1 = (bytes: unknown) => String.fromCharCode(...(bytes as Uint8Array));

async function refusal(res: Response) {
  const html = await res.text();
  return { status: res.status, code: /<code>([A-Z_]+)<\/code>/.exec(html)?.[1], html };
}

async function connectionRow() {
  const rows = await pg()`select id, status, updated_at, access_token_ciphertext, refresh_token_ciphertext, token_key_id
                            from public.hubspot_connections where portal_id = ${hubspot.portalId}`;
  return rows[0];
}

/** POST /v1/hubspot/disconnect as alice with this body. */
const disconnectWith = (body: Record<string, unknown>) =>
  send("/v1/hubspot/disconnect", {
    method: "POST",
    body: JSON.stringify(body),
    headers: { ...ADMIN, "content-type": "application/json" },
  });

/** The connection's tokens, opened with this file's key. */
async function heldTokens() {
  const { tokens } = await readConnectionTokens(
    { rpc: postgresRpc(pg()), ring: await parseTokenKeys(KEYS) },
    String((await connectionRow())!.id),
  );
  return tokens!;
}

/** HubSpot's (the stand-in's) answer to a refresh with this refresh token. */
async function refreshWith(refreshToken: string) {
  const res = await fetch(`${hubspot.url}/oauth/v1/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: refreshToken,
      client_id: hubspot.clientId,
      client_secret: hubspot.clientSecret,
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function audit(action: string) {
  const { results } = await env.DB.prepare("SELECT * FROM operator_audit WHERE action = ?1 ORDER BY id")
    .bind(action)
    .all<Record<string, string>>();
  return results;
}

describe("HubSpot connect", () => {
  it("refuses to start without the app's credentials (CONFIG_MISSING), an admin credential, or an operator token when required", async () => {
    const unconfigured = await send("/v1/hubspot/connect", { headers: ADMIN }, { HUBSPOT_CLIENT_ID: undefined });
    expect(unconfigured.status).toBe(503);
    expect(((await unconfigured.json()) as { error: { code: string } }).error.code).toBe("CONFIG_MISSING");
    const anonymous = await send("/v1/hubspot/connect");
    expect(anonymous.status).toBe(401);
    // Connecting changes state, though by GET: under REQUIRE_OPERATOR_TOKENS the shared token may not.
    const shared = await send("/v1/hubspot/connect", { headers: ADMIN }, { REQUIRE_OPERATOR_TOKENS: "true" });
    expect(shared.status).toBe(403);
    expect(((await shared.json()) as { error: { code: string } }).error.code).toBe("OPERATOR_TOKEN_REQUIRED");
  });

  it("happy path: authorize, callback, tokens sealed in Postgres, status without tokens, audited", async () => {
    const { callback } = await authorize();
    const done = await send(callback, { headers: { "cf-connecting-ip": "203.0.113.7", "user-agent": "Test browser" } });
    const page = await done.text();
    expect(done.status).toBe(200);
    expect(page).toContain(`HubSpot portal ${hubspot.portalId} connected`);
    expect(page).toContain(`url=/console/hubspot?connected=${hubspot.portalId}`);
    expect(done.headers.get("content-security-policy")).toContain("default-src 'self'");

    const status = await send("/v1/hubspot/connection", { headers: ADMIN });
    const body = (await status.json()) as {
      data: { connection: Record<string, unknown>; connections: Array<Record<string, unknown>> };
    };
    expect(status.status).toBe(200);
    expect(body.data.connection).toBeTruthy();
    // Other test files connect portals of their own in the same Postgres: find ours.
    const ours = body.data.connections.find((c) => c.portal_id === hubspot.portalId);
    expect(ours).toMatchObject({
      portal_id: hubspot.portalId,
      status: "connected",
      scopes: ["oauth", "crm.objects.contacts.read"],
    });
    expect(ours).not.toHaveProperty("access_token");
    // The response is what the OpenAPI document says it is.
    z.object({ connection: hubspotConnectionSchema.nullable(), connections: z.array(hubspotConnectionSchema) })
      .strict()
      .parse(body.data);
    const doc = (await (await send("/v1/openapi.json")).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(doc.paths["/v1/hubspot/connection"]!.get).toBeDefined();
    expect(doc.paths["/v1/hubspot/disconnect"]!.post).toBeDefined();
    expect(JSON.stringify(body)).not.toMatch(/access-|refresh-/);

    // In the database: ciphertext only. Opened with the key, the token is one HubSpot accepts.
    const row = (await connectionRow())!;
    const { tokens } = await readConnectionTokens(
      { rpc: postgresRpc(pg()), ring: await parseTokenKeys(KEYS) },
      String(row.id),
    );
    expect(tokens!.accessToken).toMatch(/^access-/);
    expect(latin1(row.access_token_ciphertext)).not.toContain(tokens!.accessToken);
    expect(latin1(row.refresh_token_ciphertext)).not.toContain(tokens!.refreshToken);
    const info = await fetch(`${hubspot.url}/oauth/v1/access-tokens/${tokens!.accessToken}`);
    expect(((await info.json()) as { hub_id: number }).hub_id).toBe(hubspot.portalId);

    expect((await audit("hubspot-connect")).at(-1)).toMatchObject({
      actor: "alice@ops",
      auth: "admin-token",
      target_type: "hubspot-connection",
      target_id: row.id,
    });
    // The seed's audit trail in Supabase too: who, from where, the connection without any token.
    const [line] = await pg()`select operation, old_data, new_data, user_id, host(ip_address) as ip, user_agent
                                from public.hubspot_audit_logs where entity_id = ${String(row.id)}
                               order by "timestamp" desc limit 1`;
    expect(line).toMatchObject({ operation: "create", old_data: null, user_id: "alice@ops", ip: "203.0.113.7" });
    expect(line!.user_agent).toBe("Test browser");
    expect(line!.new_data).toMatchObject({ status: "connected", portal_id: hubspot.portalId });
    expect(JSON.stringify(line!.new_data)).not.toMatch(/access_token|refresh_token|access-|refresh-/);
  });

  it("a reused state is refused (HUBSPOT_STATE_USED) and nothing changes", async () => {
    const { callback } = await authorize();
    expect((await send(callback)).status).toBe(200);
    const before = (await connectionRow())!;
    const again = await refusal(await send(callback));
    expect(again).toMatchObject({ status: 400, code: "HUBSPOT_STATE_USED" });
    expect(again.html).toContain("Nothing was saved");
    expect((await connectionRow())!.updated_at).toEqual(before.updated_at);
  });

  it("a forged state is refused (HUBSPOT_STATE_INVALID) before the code is used", async () => {
    const { state, code } = await authorize();
    const before = (await connectionRow())!;
    const [id, signature] = state.split(".");
    const forgeries = [
      `${id}.${signature!.slice(0, -2)}AA`, // altered signature
      `${"A".repeat(22)}.${signature}`, // another id under this signature
      "", // none
      "not-a-state",
    ];
    for (const forged of forgeries) {
      const res = await refusal(await send(`/v1/hubspot/callback?code=${code}&state=${encodeURIComponent(forged)}`));
      expect(res, forged).toMatchObject({ status: 400, code: "HUBSPOT_STATE_INVALID" });
    }
    // Signed with another secret: a state this worker never issued.
    const other = await send("/v1/hubspot/connect", { headers: ADMIN }, { HUBSPOT_CLIENT_SECRET: "someone-else" });
    const otherState = new URL(other.headers.get("location")!).searchParams.get("state")!;
    expect(
      await refusal(await send(`/v1/hubspot/callback?code=${code}&state=${encodeURIComponent(otherState)}`)),
    ).toMatchObject({ status: 400, code: "HUBSPOT_STATE_INVALID" });
    expect((await connectionRow())!.updated_at).toEqual(before.updated_at);
    // The real state still works once: the forgeries consumed nothing.
    expect((await send(`/v1/hubspot/callback?code=${code}&state=${encodeURIComponent(state)}`)).status).toBe(200);
  });

  it("an expired state is refused (HUBSPOT_STATE_EXPIRED) and nothing changes", async () => {
    const { callback, state } = await authorize();
    const before = (await connectionRow())!;
    await env.DB.prepare("UPDATE hubspot_oauth_states SET expires_at = ?1 WHERE id = ?2")
      .bind(new Date(Date.now() - 1000).toISOString(), state.split(".")[0])
      .run();
    expect(await refusal(await send(callback))).toMatchObject({ status: 400, code: "HUBSPOT_STATE_EXPIRED" });
    expect((await connectionRow())!.updated_at).toEqual(before.updated_at);
  });

  it("a code HubSpot refuses is HUBSPOT_AUTH_FAILED, and a declined authorization HUBSPOT_AUTH_DECLINED; nothing saved", async () => {
    const { state } = await authorize();
    const before = (await connectionRow())!;
    const refused = await refusal(
      await send(`/v1/hubspot/callback?code=code-made-up&state=${encodeURIComponent(state)}`),
    );
    expect(refused).toMatchObject({ status: 502, code: "HUBSPOT_AUTH_FAILED" });
    expect(refused.html).toContain("missing or unknown auth code");
    const declined = await authorize();
    expect(
      await refusal(await send(`/v1/hubspot/callback?error=access_denied&state=${encodeURIComponent(declined.state)}`)),
    ).toMatchObject({ status: 400, code: "HUBSPOT_AUTH_DECLINED" });
    expect((await connectionRow())!.updated_at).toEqual(before.updated_at);
  });

  it("disconnect erases the tokens, revokes the refresh token at HubSpot, is audited with its reason, and the portal can connect again", async () => {
    const held = await heldTokens();
    const noReason = await disconnectWith({});
    expect(noReason.status).toBe(400);
    // Named: other test files connect portals of their own in the same Postgres.
    const res = await disconnectWith({ reason: "rotating the HubSpot app", portal_id: hubspot.portalId });
    expect(res.status).toBe(200);
    const answer = hubspotDisconnectedSchema.strict().parse(((await res.json()) as { data: unknown }).data);
    expect(answer).toMatchObject({ connection: { status: "disconnected" }, revoked: true, revoke_error: null });
    // HubSpot (the stand-in) no longer refreshes with it.
    expect(await refreshWith(held.refreshToken)).toMatchObject({ status: 400, body: { status: "BAD_REFRESH_TOKEN" } });
    const row = (await connectionRow())!;
    expect(row).toMatchObject({
      status: "disconnected",
      access_token_ciphertext: null,
      refresh_token_ciphertext: null,
      token_key_id: null,
    });
    const audited = (await audit("hubspot-disconnect")).at(-1)!;
    expect(audited).toMatchObject({ actor: "alice@ops", reason: "rotating the HubSpot app", target_id: row.id });
    expect(JSON.parse(audited.result!)).toMatchObject({ revoked: true, revoke_error: null });
    const [line] = await pg()`select operation, old_data ->> 'status' as was, new_data ->> 'status' as now, user_id
                                from public.hubspot_audit_logs where entity_id = ${String(row.id)}
                               order by "timestamp" desc limit 1`;
    expect(line).toEqual({ operation: "update", was: "connected", now: "disconnected", user_id: "alice@ops" });
    const again = await disconnectWith({ reason: "again", portal_id: hubspot.portalId });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe("INVALID_TRANSITION");
    const unknown = await disconnectWith({ reason: "no such portal", portal_id: 1 });
    expect(unknown.status).toBe(404);

    // Reconnect: disconnected → pending → connected, same row.
    expect((await send((await authorize()).callback)).status).toBe(200);
    expect((await connectionRow())!).toMatchObject({ id: row.id, status: "connected" });
  });
  it("HubSpot failing the revocation: the portal is disconnected here all the same, and the answer says HubSpot did not revoke", async () => {
    expect((await connectionRow())!.status).toBe("connected"); // reconnected by the test before
    const held = await heldTokens();
    // The stand-in's fault hook: its next refresh-token deletion answers 503.
    const fault = await fetch(`${hubspot.url}/_standin/faults`, {
      method: "POST",
      body: JSON.stringify({ failRevocations: 1 }),
    });
    expect(fault.status).toBe(200);
    const res = await disconnectWith({ reason: "HubSpot is down, disconnect anyway", portal_id: hubspot.portalId });
    expect(res.status).toBe(200);
    const answer = hubspotDisconnectedSchema.parse(((await res.json()) as { data: unknown }).data);
    expect(answer).toMatchObject({ connection: { status: "disconnected" }, revoked: false });
    expect(answer.revoke_error).toMatch(/^HubSpot answered 503/);
    expect((await connectionRow())!).toMatchObject({
      status: "disconnected",
      access_token_ciphertext: null,
      refresh_token_ciphertext: null,
    });
    expect(JSON.parse((await audit("hubspot-disconnect")).at(-1)!.result!)).toMatchObject({ revoked: false });
    // Truthful: HubSpot still honours the token nobody revoked (and we no longer hold).
    expect((await refreshWith(held.refreshToken)).status).toBe(200);
  });
});
