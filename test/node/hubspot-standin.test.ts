import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { revokeRefreshToken } from "../../producers/hubspot/oauth";
import { startHubSpotStandIn, type HubSpotStandIn } from "../../tools/local/hubspot-standin";
import { fakeClock } from "./support/fake-clock";

// The stand-in is only worth testing against if it keeps HubSpot's contract; these check it over
// HTTP, independently of our client (the HMAC is recomputed with node:crypto, not our module).
let standIn: HubSpotStandIn | undefined;
afterEach(async () => {
  await standIn?.stop();
  standIn = undefined;
});

async function start(opts: Parameters<typeof startHubSpotStandIn>[0] = {}) {
  standIn = await startHubSpotStandIn(opts);
  const { accessToken } = standIn.oauth.connect();
  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${standIn!.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${accessToken}`, "content-type": "application/json", ...init.headers },
    });
  return { standIn, call };
}

describe("HubSpot stand-in: contacts list", () => {
  it("pages by `after` in id order, each live contact once; archived ones only with archived=true", async () => {
    const { standIn, call } = await start();
    standIn.portal.generate(250, { seed: 3 });
    for (const id of [5, 100, 101]) standIn.portal.archive(id);
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const res = await call(`/crm/v3/objects/contacts?limit=100${after ? `&after=${after}` : ""}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as {
        results: Array<{ id: string; archived: boolean }>;
        paging?: { next?: { after: string } };
      };
      expect(page.results.length).toBeLessThanOrEqual(100);
      seen.push(...page.results.map((c) => c.id));
      after = page.paging?.next?.after;
      pages++;
    } while (after);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(247);
    expect(new Set(seen).size).toBe(247);
    expect(seen).not.toContain("100");
    const archived = (await (await call("/crm/v3/objects/contacts?limit=100&archived=true")).json()) as {
      results: Array<{ id: string; archived: boolean; archivedAt?: string }>;
    };
    expect(archived.results.map((c) => c.id)).toEqual(["5", "100", "101"]);
    expect(archived.results.every((c) => c.archived && c.archivedAt)).toBe(true);
  });

  it("answers the contract's contact shape, with the always-returned properties", async () => {
    const { standIn, call } = await start();
    standIn.portal.create({ email: "a@example.com", firstname: "A", lastname: null });
    const page = (await (await call("/crm/v3/objects/contacts?limit=1&properties=email,phone")).json()) as {
      results: Array<Record<string, unknown>>;
    };
    const contact = page.results[0]!;
    expect(Object.keys(contact).sort()).toEqual(["archived", "createdAt", "id", "properties", "updatedAt"]);
    expect(contact.properties).toEqual({
      email: "a@example.com",
      phone: null,
      hs_object_id: "1",
      createdate: contact.createdAt,
      lastmodifieddate: contact.updatedAt,
    });
  });

  it("refuses a page over 100 and a batch read over 100 inputs with HubSpot's error body", async () => {
    const { call } = await start();
    const list = await call("/crm/v3/objects/contacts?limit=101");
    expect(list.status).toBe(400);
    const body = (await list.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: "error", category: "VALIDATION_ERROR" });
    expect(typeof body.correlationId).toBe("string");
    const inputs = Array.from({ length: 101 }, (_, i) => ({ id: String(i + 1) }));
    const batch = await call("/crm/v3/objects/contacts/batch/read", {
      method: "POST",
      body: JSON.stringify({ inputs }),
    });
    expect(batch.status).toBe(400);
  });

  it("batch read returns the known ids and reports the others (207)", async () => {
    const { standIn, call } = await start();
    standIn.portal.generate(10);
    standIn.portal.archive(2);
    const res = await call("/crm/v3/objects/contacts/batch/read?archived=false", {
      method: "POST",
      body: JSON.stringify({ inputs: [{ id: "1" }, { id: "2" }, { id: "99" }] }),
    });
    expect(res.status).toBe(207);
    const body = (await res.json()) as {
      results: Array<{ id: string }>;
      errors: Array<{ context: { ids: string[] } }>;
    };
    expect(body.results.map((c) => c.id)).toEqual(["1"]);
    expect(body.errors[0]!.context.ids).toEqual(["2", "99"]);
  });
});

describe("HubSpot stand-in: search", () => {
  it("filters by lastmodifieddate, sorts, and never pages past 10,000 of a larger total", async () => {
    const clock = fakeClock();
    const { standIn, call } = await start({ clock, limits: { search: { limit: 1000, windowMs: 1000 } } });
    standIn.portal.generate(10_500, { seed: 9, spreadMs: 3_600_000 });
    standIn.portal.archive(1);
    const search = (after?: string) =>
      call("/crm/v3/objects/contacts/search", {
        method: "POST",
        body: JSON.stringify({
          filterGroups: [{ filters: [{ propertyName: "lastmodifieddate", operator: "GTE", value: "0" }] }],
          sorts: [{ propertyName: "lastmodifieddate", direction: "ASCENDING" }],
          limit: 200,
          ...(after ? { after } : {}),
        }),
      });
    let reached = 0;
    let after: string | undefined;
    let previous = -Infinity;
    do {
      const page = (await (await search(after)).json()) as {
        total: number;
        results: Array<{ updatedAt: string }>;
        paging?: { next?: { after: string } };
      };
      expect(page.total).toBe(10_499); // the archived contact never matches a search
      for (const c of page.results) {
        expect(Date.parse(c.updatedAt)).toBeGreaterThanOrEqual(previous);
        previous = Date.parse(c.updatedAt);
      }
      reached += page.results.length;
      after = page.paging?.next?.after;
    } while (after);
    expect(reached).toBe(10_000);
    const beyond = await search("10000");
    expect(beyond.status).toBe(400);
  });
});

describe("HubSpot stand-in: rate limit", () => {
  it("answers 429 over the rolling window with HubSpot's body and headers, and counts the peak", async () => {
    const clock = fakeClock();
    const { standIn, call } = await start({ clock, limits: { general: { limit: 5, windowMs: 10_000 } } });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await call("/crm/v3/objects/contacts?limit=1")).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    clock.advance(4_000);
    const refused = await call("/crm/v3/objects/contacts?limit=1");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("6");
    expect(refused.headers.get("x-hubspot-ratelimit-max")).toBe("5");
    expect(refused.headers.get("x-hubspot-ratelimit-remaining")).toBe("0");
    expect(refused.headers.get("x-hubspot-ratelimit-interval-milliseconds")).toBe("10000");
    expect(await refused.json()).toMatchObject({
      status: "error",
      errorType: "RATE_LIMIT",
      policyName: "TEN_SECONDLY_ROLLING",
    });
    clock.advance(6_001);
    expect((await call("/crm/v3/objects/contacts?limit=1")).status).toBe(200);
    expect(standIn.stats().maxInGeneralWindow).toBe(7);
    expect(standIn.stats().throttled).toBe(2);
  });
});

describe("HubSpot stand-in: OAuth", () => {
  it("redirects with code and state; the code works once; a refresh replaces the access token; expiry answers 401", async () => {
    const clock = fakeClock();
    standIn = await startHubSpotStandIn({ clock, tokenLifetimeSeconds: 1800 });
    const redirectUri = "http://127.0.0.1:1/callback";
    const authorize = await fetch(
      `${standIn.url}/oauth/authorize?client_id=${standIn.clientId}&redirect_uri=${encodeURIComponent(redirectUri)}&scope=crm.objects.contacts.read&state=s1`,
      { redirect: "manual" },
    );
    expect(authorize.status).toBe(302);
    const location = new URL(authorize.headers.get("location")!);
    expect(location.searchParams.get("state")).toBe("s1");
    const code = location.searchParams.get("code")!;
    const grant = (extra: Record<string, string>) =>
      fetch(`${standIn!.url}/oauth/v1/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ client_id: standIn!.clientId, client_secret: standIn!.clientSecret, ...extra }),
      });
    const first = await grant({ grant_type: "authorization_code", code, redirect_uri: redirectUri });
    const tokens = (await first.json()) as {
      access_token: string;
      refresh_token: string;
      expires_in: number;
      token_type: string;
    };
    expect(tokens).toMatchObject({ expires_in: 1800, token_type: "bearer" });
    const again = await grant({ grant_type: "authorization_code", code, redirect_uri: redirectUri });
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ status: "BAD_AUTH_CODE" });

    const list = (token: string) =>
      fetch(`${standIn!.url}/crm/v3/objects/contacts?limit=1`, { headers: { authorization: `Bearer ${token}` } });
    expect((await list(tokens.access_token)).status).toBe(200);
    const refreshed = (await (
      await grant({ grant_type: "refresh_token", refresh_token: tokens.refresh_token })
    ).json()) as {
      access_token: string;
    };
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect((await list(tokens.access_token)).status).toBe(401);
    expect((await list(refreshed.access_token)).status).toBe(200);

    clock.advance(1800 * 1000 + 5 * 60_000);
    const expired = await list(refreshed.access_token);
    expect(expired.status).toBe(401);
    expect(await expired.json()).toMatchObject({
      status: "error",
      category: "EXPIRED_AUTHENTICATION",
      message: "The OAuth token used to make this call expired 5 minute(s) ago.",
    });
    const bad = await grant({ grant_type: "refresh_token", refresh_token: "nope" });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ status: "BAD_REFRESH_TOKEN" });
  });
});

describe("HubSpot stand-in: deleting a refresh token", () => {
  it("DELETE /oauth/v1/refresh-tokens/:token: 204, the token stops refreshing, access tokens live on; unknown 404; the fault answers 503 and revokes nothing", async () => {
    standIn = await startHubSpotStandIn();
    const { accessToken, refreshToken } = standIn.oauth.connect();
    const del = (token: string) =>
      fetch(`${standIn!.url}/oauth/v1/refresh-tokens/${encodeURIComponent(token)}`, { method: "DELETE" });

    standIn.faults.failRevocations = 1;
    expect((await del(refreshToken)).status).toBe(503);
    expect(standIn.oauth.knows(refreshToken)).toBe(true);

    const done = await del(refreshToken);
    expect(done.status).toBe(204);
    expect(await done.text()).toBe("");
    expect(standIn.oauth.knows(refreshToken)).toBe(false);
    const refresh = await fetch(`${standIn.url}/oauth/v1/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: refreshToken,
        client_id: standIn.clientId,
        client_secret: standIn.clientSecret,
      }),
    });
    expect(await refresh.json()).toMatchObject({ status: "BAD_REFRESH_TOKEN" });
    // HubSpot: "Access tokens generated with the refresh token will not be affected".
    const list = await fetch(`${standIn.url}/crm/v3/objects/contacts?limit=1`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(list.status).toBe(200);

    const again = await del(refreshToken);
    expect(again.status).toBe(404);
    expect(await again.json()).toMatchObject({ status: "error", category: "NOT_FOUND" });
  });

  it("revokeRefreshToken (the worker's call) reports each answer and never throws", async () => {
    standIn = await startHubSpotStandIn();
    const { refreshToken } = standIn.oauth.connect();
    const http = { fetch, baseUrl: standIn.url };
    standIn.faults.failRevocations = 1;
    expect(await revokeRefreshToken(http, refreshToken)).toMatchObject({
      revoked: false,
      reason: expect.stringMatching(/^HubSpot answered 503: The service is temporarily unavailable/),
    });
    expect(await revokeRefreshToken(http, refreshToken)).toEqual({ revoked: true });
    expect(await revokeRefreshToken(http, refreshToken)).toMatchObject({
      revoked: false,
      reason: expect.stringContaining("404"),
    });
    const closed = await revokeRefreshToken({ fetch, baseUrl: "http://127.0.0.1:1" }, "refresh-x");
    expect(closed).toMatchObject({ revoked: false, reason: expect.stringContaining("could not be reached") });
  });
});

describe("HubSpot stand-in: webhooks", () => {
  it("POSTs batches signed with v3: base64 HMAC-SHA256(secret, method + URI + body + timestamp)", async () => {
    const clock = fakeClock();
    standIn = await startHubSpotStandIn({ clock, clientSecret: "app-secret" });
    const received: Array<{ url: string; body: string; headers: Record<string, string | string[] | undefined> }> = [];
    const receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString("utf8")));
      req.on("end", () => {
        received.push({ url: req.url!, body, headers: req.headers });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    try {
      const uri = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/hubspot`;
      const a = standIn.portal.create({ email: "a@example.com" });
      standIn.portal.update(a.id, { firstname: "Ann" });
      standIn.portal.archive(a.id);
      expect((await standIn.deliverWebhooks(uri)).status).toBe(204);
      const [hit] = received;
      const timestamp = hit!.headers["x-hubspot-request-timestamp"] as string;
      expect(timestamp).toBe(String(clock.now()));
      const expected = createHmac("sha256", "app-secret").update(`POST${uri}${hit!.body}${timestamp}`).digest("base64");
      expect(hit!.headers["x-hubspot-signature-v3"]).toBe(expected);
      const events = JSON.parse(hit!.body) as Array<Record<string, unknown>>;
      expect(events.map((e) => e.subscriptionType)).toEqual([
        "contact.creation",
        "contact.propertyChange",
        "contact.deletion",
      ]);
      expect(events[1]).toMatchObject({
        objectId: a.id,
        propertyName: "firstname",
        propertyValue: "Ann",
        portalId: 62515,
        attemptNumber: 0,
      });
      expect(new Set(events.map((e) => e.eventId)).size).toBe(3);
    } finally {
      receiver.closeAllConnections();
      await new Promise((r) => receiver.close(r));
    }
  });
});
