import { env } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { listConnections, moveConnection } from "../core/hubspot/connections";
import { createSession, failSession } from "../core/hubspot/sessions";
import { postgresRpc } from "../core/stores/supabase-postgres";
import { describeConnection } from "../src/http/console/hubspot/page";
import { get, ORIGIN, sendWith, signIn } from "./support/console";
import { pg } from "./support/helpers";

// The console's HubSpot section: status in words, Connect through the stand-in's authorize page,
// Disconnect with a reason (CSRF-protected, audited), sync sessions as a live fragment.

const hubspot = inject("hubspotConsole");
const HUBSPOT_ENV = {
  HUBSPOT_CLIENT_ID: hubspot.clientId,
  HUBSPOT_CLIENT_SECRET: hubspot.clientSecret,
  HUBSPOT_API_BASE: hubspot.url,
  HUBSPOT_AUTH_BASE: hubspot.url,
  HUBSPOT_TOKEN_KEYS: `k1:${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`,
};
const rpc = () => postgresRpc(pg());
const send = (path: string, opts: Parameters<typeof sendWith>[2] = {}) => sendWith(HUBSPOT_ENV, path, opts);
// A stand-in and portal of this file's own: other files connect theirs in the same Postgres.
const PORTAL = hubspot.portalId;

async function ours() {
  return (await listConnections(rpc())).find((c) => Number(c.portal_id) === PORTAL);
}

async function page(cookie: string, path = "/console/hubspot") {
  const res = await send(path, { headers: { cookie } });
  return { status: res.status, html: await res.text() };
}

/** Connect as the signed-in operator: the console's button, HubSpot's (stand-in's) redirect, the callback. */
async function connect(cookie: string) {
  const start = await send("/console/hubspot/connect", { headers: { cookie } });
  expect(start.status).toBe(302);
  const back = await fetch(start.headers.get("location")!, { redirect: "manual" });
  const callback = new URL(back.headers.get("location")!);
  expect(callback.origin).toBe(ORIGIN);
  const done = await send(`${callback.pathname}${callback.search}`);
  expect(done.status).toBe(200);
  return done.text();
}

describe("console: HubSpot", () => {
  it("needs a session, and is in the navigation", async () => {
    const res = await get("/console/hubspot");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/console/login");
    expect((await get("/console/hubspot/live/sessions")).status).toBe(303);
    const { cookie } = await signIn();
    expect((await page(cookie, "/console")).html).toContain('href="/console/hubspot"');
  });

  it("Connect goes to HubSpot's authorize page and back; the page then says Connected", async () => {
    const { cookie } = await signIn("carol@ops");
    const html = await connect(cookie);
    expect(html).toContain(`url=/console/hubspot?connected=${PORTAL}`);
    expect((await ours())?.status).toBe("connected");

    const after = await page(cookie, `/console/hubspot?connected=${PORTAL}`);
    expect(after.status).toBe(200);
    expect(after.html).toContain(`HubSpot portal ${PORTAL} connected.`);
    // The connection shown is the newest; ours is the one just connected.
    expect(after.html).toContain("Connected</span>");
    expect(after.html).toContain("crm.objects.contacts.read");
    expect(after.html).not.toMatch(/access-[0-9a-f]{8}|refresh-[0-9a-f]{8}/);
    const { results } = await env.DB.prepare(
      "SELECT actor FROM operator_audit WHERE action = 'hubspot-connect' ORDER BY id DESC LIMIT 1",
    ).all<{ actor: string }>();
    expect(results[0]?.actor).toBe("carol@ops");
  });

  it("Connect without the HubSpot app configured says so on the page (CONFIG_MISSING)", async () => {
    const { cookie } = await signIn();
    const res = await sendWith({ HUBSPOT_CLIENT_ID: "" }, "/console/hubspot/connect", { headers: { cookie } });
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("CONFIG_MISSING");
  });

  it("an error connection shows its reason in words", async () => {
    const { cookie } = await signIn();
    if ((await ours())?.status !== "connected") await connect(cookie);
    await moveConnection(rpc(), (await ours())!.id, "error", "HubSpot refused the refresh_token grant (400)");
    const inError = (await ours())!;
    expect(describeConnection(inError)).toEqual({
      label: "Error",
      state: "very-stale",
      detail: `Portal ${PORTAL}: HubSpot refused the refresh_token grant (400). Connect again to repair it.`,
    });
    // On the page when it is the connection shown (another file's portal connected later is newer).
    const { html } = await page(cookie);
    if (html.includes(`Portal ${PORTAL}:`)) expect(html).toContain("Error</span>");
    // Repaired by connecting again.
    await connect(cookie);
    expect((await ours())?.status).toBe("connected");
  });

  it("Disconnect: refused without the CSRF token or a reason (nothing changed), then done and audited", async () => {
    const { cookie, csrf } = await signIn("dave@ops");
    if ((await ours())?.status !== "connected") await connect(cookie);
    const form = (f: Record<string, string>) =>
      send("/console/hubspot/disconnect", { form: f, headers: { cookie, "sec-fetch-site": "same-origin" } });

    expect((await form({ reason: "no token", portal_id: String(PORTAL) })).status).toBe(403);
    const noReason = await form({ csrf, reason: " ", portal_id: String(PORTAL) });
    expect(noReason.status).toBe(400);
    expect(await noReason.text()).toMatch(/role="alert"[^>]*>Refused \(INVALID_REQUEST\)/);
    expect((await ours())?.status).toBe("connected");

    const done = await form({ csrf, reason: "moving to another HubSpot app", portal_id: String(PORTAL) });
    expect(done.status).toBe(303);
    const location = done.headers.get("location")!;
    expect(location).toMatch(new RegExp(`^/console/hubspot\\?disconnected=${PORTAL}&revoked=[01]$`));
    const row =
      await pg()`select status, access_token_ciphertext from public.hubspot_connections where portal_id = ${PORTAL}`;
    expect(row[0]).toMatchObject({ status: "disconnected", access_token_ciphertext: null });
    const { results } = await env.DB.prepare(
      "SELECT actor, reason FROM operator_audit WHERE action = 'hubspot-disconnect' ORDER BY id DESC LIMIT 1",
    ).all();
    expect(results[0]).toEqual({ actor: "dave@ops", reason: "moving to another HubSpot app" });
    const { html } = await page(cookie, location);
    expect(html).toContain(`HubSpot portal ${PORTAL} disconnected; its tokens were erased here`);
    // Whether HubSpot revoked is said either way: this test's portal has no HubSpot to answer.
    expect(html).toMatch(/revoked at HubSpot\.|HubSpot did not confirm revoking/);
  });

  it("lists sync sessions with status and progress, in the page and its live fragment", async () => {
    const { cookie } = await signIn();
    const sessionId = `console-test-${crypto.randomUUID()}`;
    const session = await createSession(rpc(), { sessionId, type: "full", connectionId: null });
    await failSession(rpc(), session.id, "HubSpot unavailable for 5 minutes", { records_count: 1200, error_count: 2 });

    const { html } = await page(cookie);
    expect(html).toContain('data-live="/console/hubspot/live/sessions"');
    expect(html).toContain(sessionId);
    const fragment = await send("/console/hubspot/live/sessions", { headers: { cookie } });
    const text = await fragment.text();
    expect(fragment.status).toBe(200);
    expect(text).not.toContain("<html");
    const row = text.slice(
      text.lastIndexOf("<tr", text.indexOf(sessionId)),
      text.indexOf("</tr>", text.indexOf(sessionId)),
    );
    expect(row).toContain("Failed");
    expect(row).toContain("<td>1200</td>");
    expect(row).toContain("<td>2</td>");
    expect(row).toContain("HubSpot unavailable for 5 minutes");
  });

  it("Sync now / Full sync: refused without the CSRF token, and a refused sync says why with no session created", async () => {
    const { cookie, csrf } = await signIn();
    const sessions = async () => Number((await pg()`select count(*)::int as n from public.sync_sessions`)[0]!.n);
    const before = await sessions();
    const html = (await page(cookie)).html;
    expect(html).toContain('action="/console/hubspot/sync"');
    expect(html).toMatch(/name="full" value="true"[^>]*>\s*Full sync/);

    const noCsrf = await send("/console/hubspot/sync", {
      form: { full: "true" },
      headers: { cookie, "sec-fetch-site": "same-origin" },
    });
    expect(noCsrf.status).toBe(403);
    // No HubSpot app configured: whichever portal is connected, nothing can be read (CONFIG_MISSING),
    // or none is (HUBSPOT_NOT_CONNECTED). Either way the page says so and no session exists.
    const refused = await sendWith({ HUBSPOT_CLIENT_ID: "" }, "/console/hubspot/sync", {
      form: { csrf, full: "false" },
      headers: { cookie, "sec-fetch-site": "same-origin" },
    });
    expect([409, 503]).toContain(refused.status);
    expect(await refused.text()).toMatch(
      /role="alert"[^>]*>(Not done|Refused) \((CONFIG_MISSING|HUBSPOT_NOT_CONNECTED)\)/,
    );
    expect(await sessions()).toBe(before);
  });
});
