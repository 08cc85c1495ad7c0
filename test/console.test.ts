import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createdOperatorTokenSchema } from "../schemas/operator-api";
import { ENTITIES } from "../schemas/registry";
import { freshnessOf, type EntityStatus, type SyncStatus } from "../src/http/console/freshness";
import { CONSOLE_CSP } from "../src/http/console/routes";
import { newSession, sealSession, SESSION_COOKIE } from "../src/http/console/session";
import { SECRETS } from "./support/helpers";
import { op } from "./support/operator";

const ORIGIN = "https://worker.test";

function post(path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  return SELF.fetch(`${ORIGIN}${path}`, {
    method: "POST",
    body: new URLSearchParams(form),
    headers: { origin: ORIGIN, ...headers },
    redirect: "manual",
  });
}

function get(path: string, cookie?: string) {
  return SELF.fetch(`${ORIGIN}${path}`, { headers: cookie ? { cookie } : {}, redirect: "manual" });
}

/** The `name=value` of the session cookie a response sets, for the next request's Cookie header. */
function sessionCookie(res: Response): string {
  const set = res.headers.get("set-cookie") ?? "";
  expect(set).toContain(`${SESSION_COOKIE}=`);
  return set.split(";")[0]!;
}

async function signIn(): Promise<{ cookie: string; csrf: string }> {
  const res = await post("/console/login", { token: SECRETS.admin, operator: "alice@ops" });
  expect(res.status).toBe(303);
  const cookie = sessionCookie(res);
  const page = await (await get("/console", cookie)).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
  expect(csrf).toBeTruthy();
  return { cookie, csrf: csrf! };
}

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
