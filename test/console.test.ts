import { env } from "cloudflare:test";
import { Hono } from "hono";
import { beforeAll, describe, expect, it } from "vitest";
import { createdOperatorTokenSchema } from "../schemas/operator-api";
import { ENTITIES } from "../schemas/registry";
import { freshnessOf, type EntityStatus, type SyncStatus } from "../src/http/console/freshness";
import { CONSOLE_CSP } from "../src/http/console/routes";
import { readForm } from "../src/http/console/form";
import type { AppEnv } from "../src/http/context";
import type { Jwks } from "../src/lib/access-jwt";
import { ACCESS, accessKeySet, keyPair, signAccessJwt } from "./support/access";
import { newSession, sealSession, SESSION_COOKIE } from "../src/http/console/session";
import { get, post, sendWith, sessionCookie, signIn } from "./support/console";
import { SECRETS } from "./support/helpers";
import { op } from "./support/operator";

describe("console sign-in", () => {
  it("refuses a wrong token with a clear message and sets no cookie", async () => {
    const res = await post("/console/login", { token: "not-the-token", operator: "alice" });
    expect(res.status).toBe(401);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(await res.text()).toContain("Sign-in refused: missing or invalid bearer token");
  });

  it("asks the shared admin token's user for their name", async () => {
    const res = await post("/console/login", { token: SECRETS.admin, operator: "" });
    expect(res.status).toBe(400);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(await res.text()).toContain("enter your name");
  });

  it("with the admin token sets an HttpOnly, Secure, SameSite=Strict cookie scoped to /console, without the token", async () => {
    const res = await post("/console/login", { token: SECRETS.admin, operator: "alice@ops" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/console");
    const set = res.headers.get("set-cookie")!;
    expect(set).toMatch(/HttpOnly/i);
    expect(set).toMatch(/Secure/i);
    expect(set).toMatch(/SameSite=Strict/i);
    expect(set).toMatch(/Path=\/console/i);
    expect(set).toMatch(/Max-Age=28800/i);
    expect(set).not.toContain(SECRETS.admin);
    const payload = JSON.parse(
      atob(sessionCookie(res).split("=")[1]!.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/")),
    );
    expect(payload).toMatchObject({ operator: "alice@ops", auth: "admin-token" });
  });

  it("with an operator token names the token's operator (the same check as the admin API)", async () => {
    const created = await op("POST", "/v1/admin/operator-tokens", { operator: "bob", reason: "console test" });
    const { secret } = createdOperatorTokenSchema.parse(created.json.data);
    const res = await post("/console/login", { token: secret });
    expect(res.status).toBe(303);
    const page = await (await get("/console", sessionCookie(res))).text();
    expect(page).toContain("Signed in as <strong>bob</strong>");
  });

  it("ends an operator token's session when the token is revoked", async () => {
    const created = await op("POST", "/v1/admin/operator-tokens", { operator: "carol", reason: "console revoke test" });
    const { secret, token } = createdOperatorTokenSchema.parse(created.json.data);
    const cookie = sessionCookie(await post("/console/login", { token: secret }));
    expect((await get("/console", cookie)).status).toBe(200);
    expect((await op("POST", `/v1/admin/operator-tokens/${token.id}/revoke`, { reason: "left the team" })).status).toBe(
      200,
    );
    const after = await get("/console", cookie);
    expect(after.status).toBe(303);
    expect(after.headers.get("location")).toBe("/console/login");
  });

  it("accepts a same-origin form whose Origin is null (Chromium under Referrer-Policy no-referrer)", async () => {
    const res = await post(
      "/console/login",
      { token: SECRETS.admin, operator: "alice" },
      { origin: "null", "sec-fetch-site": "same-origin" },
    );
    expect(res.status).toBe(303);
  });

  it("refuses a sign-in posted from another site", async () => {
    const res = await post(
      "/console/login",
      { token: SECRETS.admin, operator: "alice" },
      { origin: "https://evil.example" },
    );
    expect(res.status).toBe(403);
    expect(res.headers.get("set-cookie")).toBeNull();
  });
});

describe("console overview", () => {
  it("shows a card per entity, the health and the time it was read", async () => {
    const { cookie } = await signIn();
    const res = await get("/console", cookie);
    expect(res.status).toBe(200);
    const page = await res.text();
    for (const e of ENTITIES) expect(page).toContain(`id="entity-${e.name}"`);
    expect(page.match(/class="card state-/g)).toHaveLength(ENTITIES.length);
    expect(page).toMatch(/Data <time datetime="\d{4}-[^"]+" data-age="">updated at /);
    expect(page).toContain('data-live="/console/live/overview"');
    expect(page).toContain("supabase → d1");
  });

  it("redirects to the sign-in without a cookie, with a forged one and with an expired one", async () => {
    const { cookie } = await signIn();
    const [name, value] = cookie.split("=") as [string, string];
    const [payload, signature] = value.split(".") as [string, string];
    const forgedPayload = btoa(JSON.stringify({ operator: "mallory", auth: "admin-token", csrf: "x", expires: 9e9 }))
      .replace(/=+$/, "")
      .replace(/\+/g, "-")
      .replace(/\//g, "_");
    const expired = await sealSession(env, {
      ...newSession("alice", "admin-token", new Date()),
      expires: Math.floor(Date.now() / 1000) - 1,
    });
    for (const bad of [
      undefined,
      `${name}=${payload}.${signature.slice(0, -2)}AA`,
      `${name}=${forgedPayload}.${signature}`,
      `${name}=${expired}`,
      `${name}=garbage`,
    ]) {
      const res = await get("/console", bad);
      expect(res.status, bad).toBe(303);
      expect(res.headers.get("location")).toBe("/console/login");
    }
  });

  it("answers an unknown console page with the console's HTML 404 (after the session check), not the API's JSON", async () => {
    const anonymous = await get("/console/no-such-page");
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get("location")).toBe("/console/login");
    const { cookie } = await signIn();
    const res = await get("/console/no-such-page", cookie);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("content-security-policy")).toBe(CONSOLE_CSP);
    const page = await res.text();
    expect(page).toContain(
      '<p class="error" role="alert"><code>NOT_FOUND</code>: no route for GET /console/no-such-page',
    );
    expect(page).toContain("Signed in as <strong>alice@ops</strong>");
    // The API keeps its envelope.
    const api = await get("/v1/no-such-route");
    expect(await api.json()).toMatchObject({ success: false, error: { code: "NOT_FOUND" } });
  });

  it("puts the security headers on every console response", async () => {
    const { cookie } = await signIn();
    for (const res of [await get("/console/login"), await get("/console", cookie), await get("/console")]) {
      expect(res.headers.get("content-security-policy")).toBe(CONSOLE_CSP);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    }
    const css = await get("/console/static/console.css");
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(css.headers.get("x-content-type-options")).toBe("nosniff");
  });
});

describe("console CSRF and sign-out", () => {
  it("refuses a POST without the CSRF token, with a wrong one or from another site, and changes nothing", async () => {
    const { cookie, csrf } = await signIn();
    for (const res of [
      await post("/console/logout", {}, { cookie }),
      await post("/console/logout", { csrf: "wrong" }, { cookie }),
      await post("/console/logout", { csrf }, { cookie, origin: "https://evil.example" }),
      await post("/console/logout", { csrf }, { cookie, "sec-fetch-site": "cross-site" }),
      await post("/console/logout", { csrf }, { cookie, origin: "null" }),
    ]) {
      expect(res.status).toBe(403);
      expect(res.headers.get("set-cookie")).toBeNull();
      expect(await res.text()).toContain("Nothing was changed");
    }
    expect((await get("/console", cookie)).status).toBe(200);
  });

  it("signs out: the cookie is cleared", async () => {
    const { cookie, csrf } = await signIn();
    const res = await post("/console/logout", { csrf }, { cookie });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/console/login");
    expect(res.headers.get("set-cookie")).toMatch(new RegExp(`^${SESSION_COOKIE}=;.*Max-Age=0`, "i"));
  });
});

describe("freshness state", () => {
  const now = Date.parse("2026-01-01T12:00:00Z");
  const ago = (s: number) => new Date(now - s * 1000).toISOString();
  const entity = (over: Partial<EntityStatus> = {}): EntityStatus =>
    ({
      entity: "prospects",
      authority: "supabase",
      replica: "d1",
      rows: { supabase: 3, d1: 3 },
      lagSeconds: 1,
      backlog: { changeLog: 2 },
      healthy: true,
      reasons: [],
      ...over,
    }) as EntityStatus;
  const status = (oldestUnsweptAt: string | null) =>
    ({ sweeps: { changeLog: { oldestUnsweptAt }, outbox: { oldest: null } } }) as unknown as SyncStatus;

  it("follows the seed's thresholds on the oldest unsent change: fresh < 2 min, stale to 10 min, very stale beyond", () => {
    expect(freshnessOf(entity(), status(ago(119)), now)).toBe("fresh");
    expect(freshnessOf(entity(), status(ago(120)), now)).toBe("stale");
    expect(freshnessOf(entity(), status(ago(599)), now)).toBe("stale");
    expect(freshnessOf(entity(), status(ago(600)), now)).toBe("very-stale");
    // Nothing waiting: the last event's lag decides, not an old horizon.
    expect(freshnessOf(entity({ backlog: { changeLog: 0 } }), status(ago(900)), now)).toBe("fresh");
  });

  it("says warning when the entity is unhealthy, error when Supabase is unreachable", () => {
    expect(freshnessOf(entity({ healthy: false, reasons: ["1 open failed task(s)"] }), status(null), now)).toBe(
      "warning",
    );
    expect(freshnessOf(entity({ rows: { supabase: null, d1: 3 } }), status(null), now)).toBe("error");
    expect(freshnessOf(entity({ replica: null }), status(null), now)).toBe("no-replica");
  });
});

/*
 * The sign-in and shell fixes: REQUIRE_OPERATOR_TOKENS at sign-in, Cloudflare Access sign-in, the
 * form size limit and the console's own HTML error page. These need env overrides (a setting,
 * Access, a D1 that is down), so they call the worker's app directly with that env.
 */
describe("console sign-in under REQUIRE_OPERATOR_TOKENS, with Cloudflare Access, size limits and errors", () => {
  let signer: CryptoKeyPair;
  let jwks: Jwks;
  beforeAll(async () => {
    ({ signer, jwks } = await accessKeySet());
  });

  const send = (
    path: string,
    opts: { form?: Record<string, string>; body?: string; headers?: Record<string, string> } = {},
    overrides: Record<string, unknown> = {},
  ) => sendWith(overrides, path, { ...opts, jwks });

  it("REQUIRE_OPERATOR_TOKENS: the shared admin token is refused at sign-in with a clear message; its sessions end", async () => {
    const required = { REQUIRE_OPERATOR_TOKENS: "true" };
    const res = await send("/console/login", { form: { token: SECRETS.admin, operator: "alice" } }, required);
    expect(res.status).toBe(403);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(await res.text()).toContain(
      "Sign-in refused: REQUIRE_OPERATOR_TOKENS is set: the shared admin token cannot sign in.",
    );
    // A session started before the setting was turned on ends with it.
    const { cookie } = await signIn();
    expect((await send("/console", { headers: { cookie } })).status).toBe(200);
    const after = await send("/console", { headers: { cookie } }, required);
    expect(after.status).toBe(303);
    expect(after.headers.get("location")).toBe("/console/login");
    // An operator token still signs in: it proves who acts.
    const created = await op("POST", "/v1/admin/operator-tokens", { operator: "dora", reason: "console test" });
    const { secret } = createdOperatorTokenSchema.parse(created.json.data);
    expect((await send("/console/login", { form: { token: secret } }, required)).status).toBe(303);
  });

  it("Cloudflare Access: the sign-in page offers 'Continue as <email>', and the session is proven as that email", async () => {
    const assertion = await signAccessJwt(signer.privateKey, { email: "erin@example.com" });
    const page = await send("/console/login", { headers: { "cf-access-jwt-assertion": assertion } }, ACCESS);
    expect(await page.text()).toContain("Continue as erin@example.com");
    // Without Access configured, or with a JWT signed by someone else, nothing is offered.
    const stranger = await signAccessJwt((await keyPair()).privateKey, { email: "erin@example.com" });
    for (const [headers, overrides] of [
      [{ "cf-access-jwt-assertion": assertion }, {}],
      [{ "cf-access-jwt-assertion": stranger }, ACCESS],
    ] as const)
      expect(await (await send("/console/login", { headers }, overrides)).text()).not.toContain("Continue as");

    const res = await send(
      "/console/login",
      { form: { via: "access" }, headers: { "cf-access-jwt-assertion": assertion } },
      ACCESS,
    );
    expect(res.status).toBe(303);
    const cookie = sessionCookie(res);
    const payload = JSON.parse(atob(cookie.split("=")[1]!.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/")));
    expect(payload).toMatchObject({ operator: "erin@example.com", auth: "access-jwt" });
    const overview = await send("/console", { headers: { cookie, "cf-access-jwt-assertion": assertion } }, ACCESS);
    expect(overview.status).toBe(200);
    expect(await overview.text()).toContain("Signed in as <strong>erin@example.com</strong>");
    // The session lasts only while Access vouches for the same person.
    const other = await signAccessJwt(signer.privateKey, { email: "frank@example.com" });
    for (const headers of [{ cookie }, { cookie, "cf-access-jwt-assertion": other }] as Record<string, string>[]) {
      const gone = await send("/console", { headers }, ACCESS);
      expect(gone.status).toBe(303);
      expect(gone.headers.get("location")).toBe("/console/login");
    }
    // A forged JWT signs nobody in.
    const forged = await send(
      "/console/login",
      { form: { via: "access" }, headers: { "cf-access-jwt-assertion": stranger } },
      ACCESS,
    );
    expect(forged.status).toBe(401);
    expect(forged.headers.get("set-cookie")).toBeNull();
    expect(await forged.text()).toContain("Sign-in refused");
  });

  it("refuses a form body over 8 KiB with 413 before parsing it, at sign-in and on CSRF-protected POSTs", async () => {
    const big = `token=${SECRETS.admin}&operator=alice&pad=${"x".repeat(9000)}`;
    const headers = { "content-type": "application/x-www-form-urlencoded" };
    const res = await send("/console/login", { body: big, headers });
    expect(res.status).toBe(413);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await res.text()).toContain("PAYLOAD_TOO_LARGE");
    const { cookie, csrf } = await signIn();
    const out = await send("/console/logout", {
      body: `csrf=${csrf}&pad=${"x".repeat(9000)}`,
      headers: { ...headers, cookie },
    });
    expect(out.status).toBe(413);
    expect(out.headers.get("set-cookie")).toBeNull();
    expect((await send("/console", { headers: { cookie } })).status).toBe(200);
  });

  it("after the size-checked read, a handler can still read the form with c.req.parseBody()", async () => {
    const app = new Hono<AppEnv>().post("/form", async (c) => {
      const checked = await readForm(c);
      return c.json({ checked, parsed: await c.req.parseBody() });
    });
    const res = await app.request("/form", {
      method: "POST",
      body: new URLSearchParams({ csrf: "t", reason: "é ü" }),
    });
    expect(await res.json()).toEqual({ checked: { csrf: "t", reason: "é ü" }, parsed: { csrf: "t", reason: "é ü" } });
  });

  it("with D1 down answers with an HTML error page (status, code, retry), not the API's JSON, under the CSP", async () => {
    const { cookie } = await signIn();
    const down = () => {
      throw new Error("D1_ERROR: Network connection lost.");
    };
    const failing = new Proxy(env.DB, {
      get: (target, key) => (key === "prepare" || key === "batch" || key === "exec" ? down : Reflect.get(target, key)),
    });
    const res = await send("/console", { headers: { cookie } }, { DB: failing });
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("content-security-policy")).toBe(CONSOLE_CSP);
    const page = await res.text();
    expect(page).toMatch(/<p class="error" role="alert"><code>[A-Z_]+<\/code>/);
    expect(page).toContain(`Something went wrong (${res.status})`);
    expect(page).toContain(">Retry</a>");
    expect(page).not.toMatch(/"success"|at .*\.ts:\d+/);
  });
});
