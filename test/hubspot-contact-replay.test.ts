import { env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { moveConnection, saveConnection, type Connection } from "../core/hubspot/connections";
import { parseTokenKeys } from "../core/hubspot/token-cipher";
import { postgresRpc } from "../core/stores/supabase-postgres";
import { publishContactEvents, contactEvents } from "../producers/hubspot-contacts";
import type { HubSpotClient } from "../producers/hubspot/client";
import type { HubSpotContact } from "../producers/hubspot/contact";
import { queueBindings } from "../producers/publish";
import { contactUuid } from "../schemas/hubspot/contact-id";
import type { Env } from "../src/env";
import { newEventId } from "../schemas/event";
import { createPlanBody } from "../schemas/operator-api";
import { getFailedTask } from "../src/services/failed-tasks";
import { runJobTick } from "../src/services/replay-jobs";
import { createPlan } from "../src/services/replay-plans";
import { decideReplays, type ReplayableTask } from "../src/services/replay-decide";
import { replayOneTask } from "../src/services/replay-task";
import { hubspotForConnection } from "../src/wiring/hubspot";
import type { RetryOptions } from "../producers/hubspot/request";
import { contact, contactRows, contactTask, newHubSpotId, tombstone } from "./support/hubspot";
import { pg, waitFor } from "./support/helpers";
import { testReplayStores } from "./support/replay-stores";

// Refresh replay of a HubSpot-owned contact: the failed task's contact is read again from HubSpot
// (a stand-in of this file's own, over real HTTP, changed through its /_standin/ controls) by the
// client the worker builds for a connection, and what it holds now is sent through the real queue
// and consumer into Postgres. The connection is this file's own: the worker's wiring picks the
// newest connected portal, which other files sharing this Postgres change (src/wiring/hubspot.ts).

const hubspot = inject("hubspotReplay");
const rpc = () => postgresRpc(pg());
const KEYS = `k1:${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;
const HUBSPOT_ENV = {
  ...env,
  HUBSPOT_CLIENT_ID: hubspot.clientId,
  HUBSPOT_CLIENT_SECRET: hubspot.clientSecret,
  HUBSPOT_API_BASE: hubspot.url,
  HUBSPOT_TOKEN_KEYS: KEYS,
} as Env;
const ACTOR = { name: "replay-test@ops", auth: "admin-token" as const, tokenId: null };
let connection: Connection;

async function standIn<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${hubspot.url}/_standin${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(res.status, `${method} ${path}`).toBeLessThan(300);
  return (res.status === 204 ? null : await res.json()) as T;
}

/** The client the worker builds for our connection (token store, renewal, D1 budget, retries). */
async function client(retry?: Partial<RetryOptions>): Promise<HubSpotClient> {
  return (await hubspotForConnection(HUBSPOT_ENV, { rpc: rpc(), db: env.DB, retry }, connection)).client;
}

const replay = async (taskId: string, hubspotClient: HubSpotClient | null, mode: "refresh" | "original" = "refresh") =>
  replayOneTask({ db: env.DB, queues: queueBindings(env), stores: testReplayStores(hubspotClient) }, taskId, {
    mode,
    override: false,
    actor: ACTOR,
    reason: "re-read from HubSpot",
  });

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => ({ code: "none", message: "", status: 0, retryable: false }),
    (e: { code: string; message: string; status: number; retryable: boolean }) => e,
  );

/** A contact created in HubSpot with these properties, read (at `readAt`) and dead-lettered as the sync does. */
async function deadLettered(properties: Record<string, string | null>, readAt?: string) {
  const created = await standIn<HubSpotContact>("POST", "/contacts", {
    properties: { firstname: "Grace", lastname: "Hopper", ...properties },
  });
  const { results } = await (await client()).batchRead([created.id]);
  return { id: created.id, task: await deadLetter(results, readAt) };
}

async function deadLetter(list: HubSpotContact[], readAt?: string) {
  const made = await contactEvents(list, "hubspot-sync", { now: readAt });
  expect(await publishContactEvents(queueBindings(env), made)).toEqual({ published: 0, deadLettered: 1 });
  const task = await waitFor(() => contactTask(contactUuid(list[0]!.id)), "the failed task", 15_000);
  expect(task).toMatchObject({ status: "open", error_code: "SCHEMA_VIOLATION", replay_count: 0 });
  return task;
}

const taskNow = async (id: string) => (await contactTask(id))!;

beforeAll(async () => {
  // Connected as HubSpot does it: the authorize redirect's code exchanged for tokens.
  const redirect = "https://worker.test/v1/hubspot/callback";
  const authorize = new URL(`${hubspot.url}/oauth/authorize`);
  authorize.search = new URLSearchParams({
    client_id: hubspot.clientId,
    redirect_uri: redirect,
    scope: "oauth",
  }).toString();
  const code = new URL((await fetch(authorize, { redirect: "manual" })).headers.get("location")!).searchParams.get(
    "code",
  )!;
  const token = await fetch(`${hubspot.url}/oauth/v1/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: redirect,
      client_id: hubspot.clientId,
      client_secret: hubspot.clientSecret,
    }),
  });
  const tokens = (await token.json()) as { access_token: string; refresh_token: string; expires_in: number };
  connection = await saveConnection(
    { rpc: rpc(), ring: await parseTokenKeys(KEYS) },
    {
      portalId: hubspot.portalId,
      scopes: ["oauth", "crm.objects.contacts.read"],
      tokens: {
        accessToken: tokens.access_token,
        refreshToken: tokens.refresh_token,
        expiresAt: new Date(Date.now() + tokens.expires_in * 1000).toISOString(),
      },
    },
  );
});

afterAll(async () => {
  // Not left as the newest connected portal for other files' wiring.
  if (connection) await moveConnection(rpc(), connection.id, "disconnected").catch(() => {});
});

describe("refresh replay of a HubSpot contact", () => {
  it("fails again with the reason while HubSpot holds bad data; once fixed there, re-reads it and it lands with the fixed data", async () => {
    const { id, task } = await deadLettered({ email: "not an email" });

    const still = await refusal(replay(task.id, await client()));
    expect(still).toMatchObject({ code: "SCHEMA_VIOLATION", status: 422, retryable: false });
    expect(still.message).toMatch(/still holds row .* email: must be an email address/);
    expect(await taskNow(task.row_id)).toMatchObject({ status: "open", replay_count: 0 });
    expect(await contactRows(id)).toHaveLength(0);

    const fixed = await standIn<HubSpotContact>("PATCH", `/contacts/${id}`, {
      properties: { email: "grace@navy.test" },
    });
    const { outcome } = await replay(task.id, await client());
    expect(outcome).toBe("sent");
    const [row] = await waitFor(async () => {
      const rows = await contactRows(id);
      return rows.length ? rows : null;
    }, "the fixed contact in Supabase");
    expect(row).toMatchObject({ email: "grace@navy.test", first_name: "Grace", hubspot_id: id });
    expect(row!.v).toBe(Date.parse(fixed.updatedAt));
    const resolved = await waitFor(async () => {
      const t = await taskNow(task.row_id);
      return t.status === "resolved" ? t : null;
    }, "the task resolved by its replay");
    expect(resolved).toMatchObject({ replay_count: 1 });
  });

  it("a contact archived in HubSpot since replays as its tombstone", async () => {
    const { id, task } = await deadLettered({ email: "two@@signs.test" });
    const archived = await standIn<HubSpotContact>("DELETE", `/contacts/${id}`);
    expect(archived.archived).toBe(true);

    expect((await replay(task.id, await client())).outcome).toBe("sent");
    const version = await waitFor(() => tombstone(id), "the tombstone");
    expect(version).toBe(Math.max(Date.parse(archived.archivedAt!), Date.parse(archived.updatedAt)));
    expect(await contactRows(id)).toHaveLength(0);
    await waitFor(async () => (await taskNow(task.row_id)).status === "resolved", "the task resolved");
  });

  it("HubSpot's 429s are waited out and an expired token is renewed during the read; the replay goes through", async () => {
    const { id, task } = await deadLettered({ email: "nope" });
    await standIn("PATCH", `/contacts/${id}`, { properties: { email: "ok@example.test" } });
    const reader = await client(); // holds the access token that is about to expire
    const before = await standIn<{ byStatus: Record<string, number>; byRoute: Record<string, number> }>(
      "GET",
      "/stats",
    );
    await standIn("POST", "/oauth/expire-all");
    await standIn("POST", "/faults", { rateLimitStorm: 2 });

    expect((await replay(task.id, reader)).outcome).toBe("sent");
    const after = await standIn<typeof before>("GET", "/stats");
    expect((after.byStatus["429"] ?? 0) - (before.byStatus["429"] ?? 0)).toBe(2);
    const refreshes = (s: typeof before) => s.byRoute["POST /oauth/v1/token"] ?? 0;
    expect(refreshes(after) - refreshes(before)).toBe(1);
    await waitFor(async () => (await contactRows(id))[0]?.email === "ok@example.test", "the contact applied");
  });

  it("HubSpot still refusing after the client's retries: a retryable HUBSPOT_UNAVAILABLE, the task left as it was", async () => {
    const { id, task } = await deadLettered({ email: "still bad" });
    await standIn("PATCH", `/contacts/${id}`, { properties: { email: "fine@example.test" } });
    await standIn("POST", "/faults", { serverErrorRate: 1 });
    try {
      const down = await refusal(replay(task.id, await client({ maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20 })));
      expect(down).toMatchObject({ code: "HUBSPOT_UNAVAILABLE", status: 503, retryable: true });
    } finally {
      await standIn("POST", "/faults", { serverErrorRate: 0 });
    }
    expect(await taskNow(task.row_id)).toMatchObject({ status: "open", replay_count: 0 });
    expect((await replay(task.id, await client())).outcome).toBe("sent");
    await waitFor(async () => (await contactRows(id)).length === 1, "applied once HubSpot answers");
  });

  it("an original replay of an image read before the replica's memory of deletes asks HubSpot: archived since → superseded, unknown → TASK_EXPIRED", async () => {
    // Read 200 days ago: Supabase's tombstones are pruned sooner, so its having nothing proves nothing.
    const longAgo = new Date(Date.now() - 200 * 86_400_000).toISOString();
    const { id, task } = await deadLettered({ email: "old bad" }, longAgo);
    const archived = await standIn<HubSpotContact>("DELETE", `/contacts/${id}`);
    const { outcome } = await replay(task.id, await client(), "original");
    expect(outcome).toBe("superseded");
    expect((await taskNow(task.row_id)).status).toBe("superseded");
    expect(Date.parse(archived.archivedAt!)).toBeGreaterThan(Date.parse(longAgo));
    expect(await contactRows(id)).toHaveLength(0);

    // A contact this HubSpot never had (merged away, GDPR-deleted): nothing can vouch for the image.
    const gone = newHubSpotId();
    const lost = await deadLetter([contact(gone, longAgo, { email: "old bad" })], longAgo);
    const expired = await refusal(replay(lost.id, await client(), "original"));
    expect(expired).toMatchObject({ code: "TASK_EXPIRED", status: 410 });
    expect(await taskNow(lost.row_id)).toMatchObject({ status: "open", replay_count: 0 });
  });

  it("in a job: HubSpot failing fails the tick (retried, the item still pending); no portal skips the item (task open); replayed once connected", async () => {
    const { id, task } = await deadLettered({ email: "job bad" });
    await standIn("PATCH", `/contacts/${id}`, { properties: { email: "job@example.test" } });
    const plan = await createPlan(
      { db: env.DB, stores: testReplayStores(await client()) },
      createPlanBody.parse({ filter: { ids: [task.id] }, mode: "refresh" }),
      ACTOR,
    );
    expect(plan).toMatchObject({ total: 1, to_send: 1 });
    const jobId = newEventId();
    const now = new Date().toISOString();
    await env.DB.prepare(
      `INSERT INTO replay_jobs (id, plan_id, queue, mode, override, status, rate_per_second, total, reason, created_by, created_at, started_at)
       VALUES (?1, ?2, 'to-supabase', 'refresh', 0, 'running', 100, 1, 'test', ?3, ?4, ?4)`,
    )
      .bind(jobId, plan.id, ACTOR.name, now)
      .run();
    const tick = (hubspotClient: HubSpotClient | null) =>
      runJobTick({ db: env.DB, queues: queueBindings(env), stores: testReplayStores(hubspotClient) }, jobId, {
        budgetMs: 2000,
      });
    const item = () =>
      env.DB.prepare("SELECT state, detail FROM replay_plan_items WHERE plan_id = ?1")
        .bind(plan.id)
        .first<{ state: string; detail: string | null }>();

    await standIn("POST", "/faults", { serverErrorRate: 1 });
    try {
      const down = await refusal(tick(await client({ maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20 })));
      expect(down).toMatchObject({ code: "HUBSPOT_UNAVAILABLE", retryable: true });
    } finally {
      await standIn("POST", "/faults", { serverErrorRate: 0 });
    }
    expect(await item()).toMatchObject({ state: "pending" });

    expect(await tick(null)).toEqual({ next: "done" });
    expect(await item()).toMatchObject({ state: "skipped", detail: expect.stringContaining("no HubSpot portal") });
    const [job] = (
      await env.DB.prepare("SELECT status, sent, skipped FROM replay_jobs WHERE id = ?1").bind(jobId).all()
    ).results;
    expect(job).toMatchObject({ status: "completed", sent: 0, skipped: 1 });
    expect(await taskNow(task.row_id)).toMatchObject({ status: "open", replay_count: 0 });

    expect((await replay(task.id, await client())).outcome).toBe("sent");
    await waitFor(async () => (await contactRows(id))[0]?.email === "job@example.test", "applied once connected");
  });

  it("no portal connected: skipped with HUBSPOT_NOT_CONNECTED (single replay 409, plans and jobs skip), nothing changes", async () => {
    const { task } = await deadLettered({ email: "@" });
    const single = await refusal(replay(task.id, null));
    expect(single).toMatchObject({ code: "HUBSPOT_NOT_CONNECTED", status: 409, retryable: false });
    // What a plan and a job decide for it (they read the whole task, its event included).
    const full = (await getFailedTask(env.DB, task.id)) as ReplayableTask;
    const [decision] = await decideReplays(testReplayStores(null), [full], {
      mode: "refresh",
      override: false,
      allowReplaying: false,
      actor: ACTOR.name,
      jobId: null,
      now: new Date().toISOString(),
    });
    expect(decision).toMatchObject({ outcome: "skipped", code: "HUBSPOT_NOT_CONNECTED" });
    expect(await taskNow(task.row_id)).toMatchObject({ status: "open", replay_count: 0 });
  });

  it("HubSpot refusing the refresh token: HUBSPOT_AUTH_FAILED, the connection goes to error, and the next replay is skipped as not connected", async () => {
    const { task } = await deadLettered({ email: "x y@z.test" });
    const reader = await client();
    await standIn("POST", "/oauth/expire-all");
    await standIn("POST", "/oauth/revoke-all");
    const refused = await refusal(replay(task.id, reader));
    expect(refused).toMatchObject({ code: "HUBSPOT_AUTH_FAILED", retryable: false });
    const [row] = await pg()`select status, last_error from hubspot_connections where id = ${connection.id}`;
    expect(row).toMatchObject({ status: "error" });
    const after = await refusal(replay(task.id, await client()));
    expect(after).toMatchObject({ code: "HUBSPOT_NOT_CONNECTED", status: 409 });
    expect(await taskNow(task.row_id)).toMatchObject({ status: "open", replay_count: 0 });
  });
});
