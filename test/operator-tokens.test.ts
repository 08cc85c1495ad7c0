import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { auditEntrySchema, createdOperatorTokenSchema, operatorTokenSchema } from "../schemas/operator-api";
import { hashOperatorToken } from "../src/lib/operator-token";
import worker from "../src/index";
import { call, SECRETS } from "./support/helpers";
import { op, prospectEvent, seedFailures, taskOfEvent } from "./support/operator";

/** Any admin call with an operator's own token (no x-operator unless given). */
function as(token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  return call(method, path, { token, body, headers });
}

/** Creates a token with the shared admin token, as an operator bootstrapping a colleague would. */
async function createToken(operator: string, extra: Record<string, unknown> = {}) {
  const res = await op(
    "POST",
    "/v1/admin/operator-tokens",
    { operator, reason: `onboarding ${operator}`, ...extra },
    "root@bootstrap",
  );
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  expect(res.headers.get("cache-control")).toBe("no-store");
  return createdOperatorTokenSchema.parse(res.json.data);
}

/** A failed task to act on: planning a replay of it is a change, audited with its actor. */
async function seededTaskId(): Promise<string> {
  const event = prospectEvent();
  await seedFailures([event]);
  return (await taskOfEvent(event.id))!.id as string;
}

async function auditOf(target: string) {
  const res = await op("GET", `/v1/admin/audit?target=${target}`);
  return res.json.data.items.map((e: unknown) => auditEntrySchema.parse(e));
}

async function plansFor(taskId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM replay_plan_items WHERE task_id = ?1")
    .bind(taskId)
    .first<{ n: number }>();
  return row!.n;
}

/** The worker with other settings, through its real fetch handler. */
async function withEnv(
  overrides: Record<string, unknown>,
  method: string,
  path: string,
  opts: { token: string; body?: unknown; headers?: Record<string, string> },
) {
  const ctx = createExecutionContext();
  const response = await worker.fetch!(
    new Request(`https://worker.test${path}`, {
      method,
      headers: { authorization: `Bearer ${opts.token}`, "content-type": "application/json", ...opts.headers },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    }) as never,
    { ...env, ...overrides },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return { status: response.status, json: (await response.json()) as any };
}

describe("operator tokens prove who acts", () => {
  it("D1 down while checking a token answers 503 retryable, not 401 or 500", async () => {
    const failing = new Proxy(env.DB, {
      get: (target, key) =>
        key === "prepare"
          ? () => ({
              bind: () => ({
                first: async () => {
                  throw new Error("D1_ERROR: Network connection lost.");
                },
              }),
            })
          : Reflect.get(target, key),
    });
    const res = await withEnv({ DB: failing }, "GET", "/v1/admin/failed-tasks", { token: "sds_op_" + "x".repeat(43) });
    expect(res.status).toBe(503);
    expect(res.json.error).toMatchObject({ code: "D1_UNAVAILABLE", retryable: true });
  });

  it("a token is shown once, D1 keeps only its hash, and a change made with it is audited as its operator, proven", async () => {
    const created = await createToken("alice");
    expect(created.secret).toMatch(/^sds_op_[A-Za-z0-9_-]{43}$/);
    expect(created.token).toMatchObject({
      operator: "alice",
      status: "active",
      created_by: "root@bootstrap",
      revoked_at: null,
      last_used_at: null,
    });
    const stored = await env.DB.prepare("SELECT * FROM operator_tokens WHERE id = ?1")
      .bind(created.token.id)
      .first<Record<string, unknown>>();
    expect(stored!.token_hash).toBe(await hashOperatorToken(created.secret));
    expect(JSON.stringify(stored)).not.toContain(created.secret);

    // Creating the token was itself a change made with the shared token: audited as claimed only.
    expect(await auditOf(created.token.id)).toEqual([
      expect.objectContaining({
        action: "token-create",
        actor: "root@bootstrap",
        auth: "admin-token",
        token_id: null,
        reason: "onboarding alice",
        target_type: "operator-token",
      }),
    ]);

    const taskId = await seededTaskId();
    const planned = await as(created.secret, "POST", "/v1/admin/replay-plans", { filter: { ids: [taskId] } });
    expect(planned.status, JSON.stringify(planned.json)).toBe(201);
    expect(planned.json.data.plan.created_by).toBe("alice");
    expect(await auditOf(planned.json.data.plan.id)).toEqual([
      expect.objectContaining({ action: "plan", actor: "alice", auth: "operator-token", token_id: created.token.id }),
    ]);
    // The same name claimed with the shared token reads differently in the trail.
    const claimed = await op("POST", "/v1/admin/replay-plans", { filter: { ids: [taskId] } }, "alice");
    expect(claimed.status).toBe(201);
    expect(await auditOf(claimed.json.data.plan.id)).toEqual([
      expect.objectContaining({ actor: "alice", auth: "admin-token", token_id: null }),
    ]);
    const proven = await op("GET", "/v1/admin/audit?actor=alice&auth=operator-token");
    expect(proven.json.data.items.map((e: { target_id: string }) => e.target_id)).toEqual([planned.json.data.plan.id]);
  });

  it("refuses an x-operator that disagrees with the token (OPERATOR_MISMATCH), and changes nothing", async () => {
    const { secret } = await createToken("bob");
    const taskId = await seededTaskId();
    const refused = await as(
      secret,
      "POST",
      "/v1/admin/replay-plans",
      { filter: { ids: [taskId] } },
      { "x-operator": "alice" },
    );
    expect(refused.status).toBe(403);
    expect(refused.json.error).toMatchObject({ code: "OPERATOR_MISMATCH", retryable: false });
    expect(await plansFor(taskId)).toBe(0);
    // Reads are refused too: the header must never be able to say something the token does not.
    expect(
      (await as(secret, "GET", "/v1/admin/failed-tasks", undefined, { "x-operator": "alice" })).json.error.code,
    ).toBe("OPERATOR_MISMATCH");
    // Naming the token's own operator is fine (the CLI always sends x-operator).
    const agreeing = await as(
      secret,
      "POST",
      "/v1/admin/replay-plans",
      { filter: { ids: [taskId] } },
      { "x-operator": "bob" },
    );
    expect(agreeing.status).toBe(201);
    expect(agreeing.json.data.plan.created_by).toBe("bob");
  });

  it("a revoked token is refused with TOKEN_REVOKED; revoking it again is ALREADY_REVOKED and audited once", async () => {
    const { token, secret } = await createToken("carol");
    expect((await as(secret, "GET", "/v1/admin/failed-tasks")).status).toBe(200);
    const revoked = await op("POST", `/v1/admin/operator-tokens/${token.id}/revoke`, { reason: "laptop lost" }, "dave");
    expect(revoked.status, JSON.stringify(revoked.json)).toBe(200);
    expect(operatorTokenSchema.parse(revoked.json.data.token)).toMatchObject({ status: "revoked", revoked_by: "dave" });

    const refused = await as(secret, "GET", "/v1/admin/failed-tasks");
    expect(refused.status).toBe(401);
    expect(refused.json.error).toMatchObject({ code: "TOKEN_REVOKED", retryable: false });
    const taskId = await seededTaskId();
    expect((await as(secret, "POST", "/v1/admin/replay-plans", { filter: { ids: [taskId] } })).json.error.code).toBe(
      "TOKEN_REVOKED",
    );
    expect(await plansFor(taskId)).toBe(0);

    const again = await op("POST", `/v1/admin/operator-tokens/${token.id}/revoke`, { reason: "laptop lost" }, "erin");
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe("ALREADY_REVOKED");
    const lines = await auditOf(token.id);
    expect(lines.map((l: { action: string; actor: string }) => `${l.action} ${l.actor}`)).toEqual([
      "token-revoke dave",
      "token-create root@bootstrap",
    ]);
    expect(
      (await op("POST", "/v1/admin/operator-tokens/01JN0000000000000000000000/revoke", { reason: "no such token" }))
        .status,
    ).toBe(404);
  });

  it("an expired token is refused with TOKEN_EXPIRED; expires_at must lie in the future", async () => {
    const { token, secret } = await createToken("frank", {
      expires_at: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(token.expires_at).not.toBeNull();
    expect((await as(secret, "GET", "/v1/admin/audit")).status).toBe(200);
    await env.DB.prepare("UPDATE operator_tokens SET expires_at = ?2 WHERE id = ?1")
      .bind(token.id, new Date(Date.now() - 1000).toISOString())
      .run();
    const refused = await as(secret, "GET", "/v1/admin/audit");
    expect(refused.status).toBe(401);
    expect(refused.json.error.code).toBe("TOKEN_EXPIRED");
    const listed = await op("GET", "/v1/admin/operator-tokens?operator=frank");
    expect(listed.json.data.items).toEqual([expect.objectContaining({ id: token.id, status: "expired" })]);

    const past = await op("POST", "/v1/admin/operator-tokens", {
      operator: "frank",
      reason: "already over",
      expires_at: "2020-01-01T00:00:00Z",
    });
    expect(past.status).toBe(400);
    expect(past.json.error.code).toBe("INVALID_REQUEST");
  });

  it("a wrong token is refused (UNAUTHORIZED): an unknown operator token, a garbled one, the email API's token", async () => {
    const { secret } = await createToken("grace");
    const unknown = `sds_op_${"A".repeat(43)}`;
    const garbled = `${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`;
    for (const token of [unknown, garbled, secret.slice(0, -1), SECRETS.api, `${SECRETS.admin}x`]) {
      const res = await as(token, "GET", "/v1/admin/failed-tasks");
      expect(res.status, token).toBe(401);
      expect(res.json.error.code, token).toBe("UNAUTHORIZED");
    }
    expect((await call("GET", "/v1/admin/failed-tasks")).json.error.code).toBe("UNAUTHORIZED");
    // The operator token is for the admin API only: the email API and webhooks keep their own secrets.
    expect((await as(secret, "GET", "/v1/emails/00000000-0000-4000-8000-000000000000")).status).toBe(401);
  });

  it("lists tokens without any secret or hash, filtered by operator and status", async () => {
    const first = await createToken("heidi");
    const second = await createToken("heidi");
    await op("POST", `/v1/admin/operator-tokens/${first.token.id}/revoke`, { reason: "rotated" });
    const res = await as(second.secret, "GET", "/v1/admin/operator-tokens?operator=heidi");
    expect(res.status).toBe(200);
    const items = res.json.data.items.map((t: unknown) => operatorTokenSchema.parse(t));
    expect(items.map((t: { id: string; status: string }) => [t.id, t.status])).toEqual([
      [second.token.id, "active"],
      [first.token.id, "revoked"],
    ]);
    const text = JSON.stringify(res.json);
    for (const secret of [
      first.secret,
      second.secret,
      await hashOperatorToken(first.secret),
      await hashOperatorToken(second.secret),
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toContain("token_hash");
    expect(Object.keys(res.json.data.items[0]).sort()).toEqual(Object.keys(operatorTokenSchema.shape).sort());
    const active = await op("GET", "/v1/admin/operator-tokens?operator=heidi&status=active");
    expect(active.json.data.items.map((t: { id: string }) => t.id)).toEqual([second.token.id]);
  });

  it("an operator token creates tokens for its own operator only (rotation), and may revoke any token", async () => {
    const ivan = await createToken("ivan");
    const judy = await createToken("judy");
    const forOther = await as(ivan.secret, "POST", "/v1/admin/operator-tokens", {
      operator: "judy",
      reason: "trying to mint judy",
    });
    expect(forOther.status).toBe(403);
    expect(forOther.json.error.code).toBe("OPERATOR_MISMATCH");
    expect((await op("GET", "/v1/admin/operator-tokens?operator=judy")).json.data.items).toHaveLength(1);

    const rotated = await as(ivan.secret, "POST", "/v1/admin/operator-tokens", {
      operator: "ivan",
      reason: "rotation",
    });
    expect(rotated.status).toBe(201);
    expect(rotated.json.data.token).toMatchObject({ operator: "ivan", created_by: "ivan" });
    expect(await auditOf(rotated.json.data.token.id)).toEqual([
      expect.objectContaining({
        action: "token-create",
        actor: "ivan",
        auth: "operator-token",
        token_id: ivan.token.id,
      }),
    ]);

    const killed = await as(ivan.secret, "POST", `/v1/admin/operator-tokens/${judy.token.id}/revoke`, {
      reason: "judy's token was pasted in chat",
    });
    expect(killed.json.data.token).toMatchObject({ status: "revoked", revoked_by: "ivan" });
    expect((await as(judy.secret, "GET", "/v1/admin/audit")).json.error.code).toBe("TOKEN_REVOKED");
  });

  it("records last use at most once a minute", async () => {
    const { token, secret } = await createToken("kim");
    const lastUsed = async () =>
      (await env.DB.prepare("SELECT last_used_at FROM operator_tokens WHERE id = ?1")
        .bind(token.id)
        .first<{ last_used_at: string | null }>())!.last_used_at;
    expect(await lastUsed()).toBeNull();
    await as(secret, "GET", "/v1/admin/audit");
    const first = await lastUsed();
    expect(first).not.toBeNull();
    await as(secret, "GET", "/v1/admin/audit");
    expect(await lastUsed()).toBe(first); // the second request within the minute wrote nothing
    const old = new Date(Date.now() - 61_000).toISOString();
    await env.DB.prepare("UPDATE operator_tokens SET last_used_at = ?2 WHERE id = ?1").bind(token.id, old).run();
    await as(secret, "GET", "/v1/admin/audit");
    expect(Date.parse((await lastUsed())!)).toBeGreaterThan(Date.parse(old) + 60_000);
  });
});

describe("REQUIRE_OPERATOR_TOKENS=true", () => {
  const required = { REQUIRE_OPERATOR_TOKENS: "true" };

  it("refuses a change made with the shared admin token and changes nothing; reads and token management still work", async () => {
    const taskId = await seededTaskId();
    const refused = await withEnv(required, "POST", "/v1/admin/replay-plans", {
      token: SECRETS.admin,
      body: { filter: { ids: [taskId] } },
      headers: { "x-operator": "root" },
    });
    expect(refused.status).toBe(403);
    expect(refused.json.error).toMatchObject({ code: "OPERATOR_TOKEN_REQUIRED", retryable: false });
    expect(await plansFor(taskId)).toBe(0);
    expect(await auditOf(taskId)).toEqual([]);
    const replay = await withEnv(required, "POST", `/v1/admin/failed-tasks/${taskId}/replay`, {
      token: SECRETS.admin,
      body: { reason: "try it" },
      headers: { "x-operator": "root" },
    });
    expect(replay.json.error.code).toBe("OPERATOR_TOKEN_REQUIRED");
    expect(
      await taskOfEvent(
        (await env.DB.prepare("SELECT event_id FROM failed_tasks WHERE id = ?1")
          .bind(taskId)
          .first<{ event_id: string }>())!.event_id,
      ),
    ).toMatchObject({
      status: "open",
      replay_count: 0,
    });
    expect(
      (await withEnv(required, "POST", "/v1/admin/integrity", { token: SECRETS.admin, body: {} })).json.error.code,
    ).toBe("OPERATOR_TOKEN_REQUIRED");

    // Reading is fine with the shared token.
    expect((await withEnv(required, "GET", "/v1/admin/failed-tasks", { token: SECRETS.admin })).status).toBe(200);
    // Bootstrap: the shared token still creates (and revokes) operator tokens.
    const created = await withEnv(required, "POST", "/v1/admin/operator-tokens", {
      token: SECRETS.admin,
      body: { operator: "lena", reason: "first operator" },
      headers: { "x-operator": "root" },
    });
    expect(created.status).toBe(201);
    const { secret } = createdOperatorTokenSchema.parse(created.json.data);
    // With her own token the same change goes through, proven.
    const planned = await withEnv(required, "POST", "/v1/admin/replay-plans", {
      token: secret,
      body: { filter: { ids: [taskId] } },
    });
    expect(planned.status, JSON.stringify(planned.json)).toBe(201);
    expect(await auditOf(planned.json.data.plan.id)).toEqual([
      expect.objectContaining({ actor: "lena", auth: "operator-token" }),
    ]);
  });
});

describe("the contract", () => {
  it("the OpenAPI document has the operator-token routes and both bearer schemes", async () => {
    const doc = (await call("GET", "/v1/openapi.json")).json as any;
    expect(Object.keys(doc.paths["/v1/admin/operator-tokens"]).sort()).toEqual(["get", "post"]);
    expect(doc.paths["/v1/admin/operator-tokens/{id}/revoke"].post).toBeDefined();
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(["access", "admin", "operator"]);
    expect(JSON.stringify(doc.paths["/v1/admin/operator-tokens"].get.responses)).not.toContain("token_hash");
    expect(doc.components.responses.E403.description).toContain("OPERATOR_MISMATCH");
  });
});
