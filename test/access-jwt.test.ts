import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { auditEntrySchema } from "../schemas/operator-api";
import { accessKeysFromFetch, verifyAccessJwt, type Jwks } from "../src/lib/access-jwt";
import { createApp } from "../src/http/app";
import { SECRETS } from "./support/helpers";
import { op, prospectEvent, seedFailures, taskOfEvent } from "./support/operator";
import { ACCESS, accessKeySet, AUD, keyPair, part, signAccessJwt, TEAM } from "./support/access";

let signer: CryptoKeyPair;
let stranger: CryptoKeyPair;
let jwks: Jwks;

/** An Access JWT as Cloudflare issues it; `claims` and `header` override the defaults. */
function jwt(
  claims: Record<string, unknown> = {},
  opts: { header?: Record<string, unknown>; key?: CryptoKey } = {},
): Promise<string> {
  return signAccessJwt(opts.key ?? signer.privateKey, claims, opts.header);
}

/** The worker's app with Access's keys handed in, as createApp takes them. */
async function send(
  method: string,
  path: string,
  opts: {
    jwt?: string;
    token?: string;
    body?: unknown;
    headers?: Record<string, string>;
    env?: Record<string, string>;
  } = {},
) {
  const app = createApp({ accessKeys: async () => jwks });
  const headers: Record<string, string> = { "content-type": "application/json", ...opts.headers };
  if (opts.jwt) headers["cf-access-jwt-assertion"] = opts.jwt;
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const ctx = createExecutionContext();
  const response = await app.fetch(
    new Request(`https://worker.test${path}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    }),
    { ...env, ...(opts.env ?? ACCESS) },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return { status: response.status, json: (await response.json()) as any };
}

async function seededTaskId(): Promise<string> {
  const event = prospectEvent();
  await seedFailures([event]);
  return (await taskOfEvent(event.id))!.id as string;
}

beforeAll(async () => {
  ({ signer, jwks } = await accessKeySet());
  stranger = await keyPair();
});

describe("Cloudflare Access JWTs prove who acts", () => {
  it("a valid JWT authenticates its email: a change is audited as that person, proven (auth access-jwt)", async () => {
    const taskId = await seededTaskId();
    const planned = await send("POST", "/v1/admin/replay-plans", {
      jwt: await jwt(),
      body: { filter: { ids: [taskId] } },
    });
    expect(planned.status, JSON.stringify(planned.json)).toBe(201);
    expect(planned.json.data.plan.created_by).toBe("mallory@example.com");
    const audit = (await op("GET", `/v1/admin/audit?target=${planned.json.data.plan.id}`)).json.data.items.map(
      (e: unknown) => auditEntrySchema.parse(e),
    );
    expect(audit).toEqual([
      expect.objectContaining({ actor: "mallory@example.com", auth: "access-jwt", token_id: null }),
    ]);
    // A service token (no email) is named by its client id.
    expect(
      (await send("GET", "/v1/admin/audit", { jwt: await jwt({ email: undefined, common_name: "ci-client.access" }) }))
        .status,
    ).toBe(200);
    // Under REQUIRE_OPERATOR_TOKENS an Access identity counts as proven.
    const required = await send("POST", "/v1/admin/replay-plans", {
      jwt: await jwt(),
      body: { filter: { ids: [taskId] } },
      env: { ...ACCESS, REQUIRE_OPERATOR_TOKENS: "true" },
    });
    expect(required.status).toBe(201);
  });

  it("refuses forged, expired, foreign and mis-addressed JWTs with ACCESS_JWT_INVALID", async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[string, string]> = [
      ["signed by another key", await jwt({}, { key: stranger.privateKey })],
      ["another application's audience", await jwt({ aud: ["someone-else"] })],
      ["another team", await jwt({ iss: "https://evil.cloudflareaccess.com" })],
      ["expired", await jwt({ exp: now - 120 })],
      ["not valid yet", await jwt({ nbf: now + 600 })],
      ["unknown key id", await jwt({}, { header: { kid: "k9" } })],
      [
        "alg none",
        `${part({ alg: "none", kid: "k1" })}.${part({ aud: [AUD], iss: `https://${TEAM}`, exp: now + 600, email: "a@b.c" })}.`,
      ],
      ["alg HS256", await jwt({}, { header: { alg: "HS256" } })],
      ["garbage", "not.a.jwt"],
    ];
    const tampered = (await jwt()).split(".");
    tampered[1] = part({ aud: [AUD], email: "root@example.com", exp: now + 600, iss: `https://${TEAM}` });
    cases.push(["payload swapped after signing", tampered.join(".")]);
    for (const [what, token] of cases) {
      const res = await send("GET", "/v1/admin/failed-tasks", { jwt: token });
      expect(res.status, what).toBe(401);
      expect(res.json.error.code, what).toBe("ACCESS_JWT_INVALID");
    }
  });

  it("an x-operator naming someone else is refused; without Access configured the header is ignored", async () => {
    const mismatch = await send("GET", "/v1/admin/failed-tasks", {
      jwt: await jwt(),
      headers: { "x-operator": "alice" },
    });
    expect(mismatch.status).toBe(403);
    expect(mismatch.json.error.code).toBe("OPERATOR_MISMATCH");
    const ignored = await send("GET", "/v1/admin/failed-tasks", { jwt: await jwt(), env: {} });
    expect(ignored.status).toBe(401);
    expect(ignored.json.error.code).toBe("UNAUTHORIZED");
    // Access turns a browser's cookie into the JWT, so a cross-site "simple" POST would carry it:
    // a change must be application/json (which no other site can send without a CORS preflight).
    const taskId = await seededTaskId();
    const simple = await send("POST", "/v1/admin/replay-plans", {
      jwt: await jwt(),
      body: { filter: { ids: [taskId] } },
      headers: { "content-type": "text/plain" },
    });
    expect(simple.status).toBe(415);
    expect(simple.json.error.code).toBe("JSON_REQUIRED");
    const planned = await env.DB.prepare("SELECT count(*) AS n FROM replay_plan_items WHERE task_id = ?1")
      .bind(taskId)
      .first<{ n: number }>();
    expect(planned!.n).toBe(0);
    // An explicit bearer wins over the JWT that Access adds to every request.
    const bearer = await send("GET", "/v1/admin/failed-tasks", { jwt: "not.a.jwt", token: SECRETS.admin });
    expect(bearer.status).toBe(200);
  });
});

describe("Access signing keys", () => {
  it("are fetched from the team domain, cached, and refetched for an unknown key id at most once a minute", async () => {
    let fetches = 0;
    let clock = 1_000_000;
    const keys = accessKeysFromFetch(
      (async (input: RequestInfo | URL) => {
        fetches++;
        expect(String(input)).toBe(`https://${TEAM}/cdn-cgi/access/certs`);
        return new Response(JSON.stringify(jwks), { headers: { "content-type": "application/json" } });
      }) as typeof fetch,
      () => clock,
    );
    const config = { teamDomain: `https://${TEAM}/`, audience: AUD };
    const now = new Date();
    await verifyAccessJwt(await jwt(), config, keys, now);
    await verifyAccessJwt(await jwt(), config, keys, now);
    expect(fetches).toBe(1);
    // A made-up key id forces a refetch only once the cached keys are a minute old, and then only one.
    await expect(verifyAccessJwt(await jwt({}, { header: { kid: "k9" } }), config, keys, now)).rejects.toMatchObject({
      code: "ACCESS_JWT_INVALID",
    });
    clock += 61_000;
    await expect(verifyAccessJwt(await jwt({}, { header: { kid: "k9" } }), config, keys, now)).rejects.toMatchObject({
      code: "ACCESS_JWT_INVALID",
    });
    await expect(verifyAccessJwt(await jwt({}, { header: { kid: "k9" } }), config, keys, now)).rejects.toMatchObject({
      code: "ACCESS_JWT_INVALID",
    });
    expect(fetches).toBe(2);
    clock += 11 * 60_000;
    await verifyAccessJwt(await jwt(), config, keys, now);
    expect(fetches).toBe(3);

    const down = accessKeysFromFetch((async () => new Response("bad gateway", { status: 502 })) as typeof fetch);
    await expect(verifyAccessJwt(await jwt(), config, down, now)).rejects.toMatchObject({
      code: "ACCESS_UNAVAILABLE",
      retryable: true,
      status: 503,
    });
  });
});
