import { describe, expect, it } from "vitest";
import { saveConnection } from "../core/hubspot/connections";
import { createSession, getSession, startSession } from "../core/hubspot/sessions";
import { parseTokenKeys } from "../core/hubspot/token-cipher";
import { TransientError, ValidationError } from "../core/errors";
import { postgresRpc } from "../core/stores/supabase-postgres";
import type { HubSpotClient } from "../producers/hubspot/client";
import type { HubSpotPage } from "../producers/hubspot/contact";
import type { QueueBindings } from "../producers/publish";
import type { SyncEvent } from "../schemas/event";
import { hubspotCron, runFullSyncStep, type HubSpotSyncDeps } from "../src/services/hubspot-sync";
import type { HubSpotWiring } from "../src/wiring/hubspot";
import { contact } from "./support/hubspot";
import { pg } from "./support/helpers";

// The full sync's steps on the real Postgres (sessions, lease), with HubSpot's list endpoint and the
// queues faked: what is read, what is queued, what the session records.

const rpc = () => postgresRpc(pg());
const PAGE = 100;

type PortalOptions = {
  failOnce?: Set<string>;
  delayMs?: number;
  /** Errors a read of this page throws, one per read, in order. */
  failures?: Record<string, Error[]>;
  /** Live contacts (by index) whose id is not a HubSpot id: refused for bad data. */
  bad?: number[];
};

/** A portal of `live` + `archived` contacts behind listContacts, paged by 100 with a numeric cursor. */
function fakePortal(live: number, archived: number, opts: PortalOptions = {}) {
  const base = 8_000_000_000 + Math.floor(Math.random() * 1_000_000) * 1000;
  const mk = (i: number, isArchived: boolean) =>
    contact(
      String(base + i),
      "2025-03-01T10:00:00.000Z",
      {},
      isArchived ? { archived: true, archivedAt: "2025-03-02T10:00:00.000Z" } : {},
    );
  const lists = {
    live: Array.from({ length: live }, (_, i) =>
      opts.bad?.includes(i) ? { ...mk(i + 1, false), id: `bad-${i}` } : mk(i + 1, false),
    ),
    archived: Array.from({ length: archived }, (_, i) => mk(live + i + 1, true)),
  };
  const reads: string[] = [];
  const client = {
    async listContacts(o: { after?: string; archived?: boolean } = {}): Promise<HubSpotPage> {
      const key = `${o.archived ? "archived" : "live"}:${o.after ?? ""}`;
      reads.push(key);
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      if (opts.failOnce?.delete(key)) throw new TransientError("HUBSPOT_UNAVAILABLE", "HubSpot answered 503");
      const failure = opts.failures?.[key]?.shift();
      if (failure) throw failure;
      const list = o.archived ? lists.archived : lists.live;
      const start = Number(o.after ?? 0);
      const results = list.slice(start, start + PAGE);
      const next = start + PAGE < list.length ? { next: { after: String(start + PAGE) } } : {};
      return { results, paging: next };
    },
  } as unknown as HubSpotClient;
  return { client, reads };
}

function recordingQueues() {
  const sent: SyncEvent[] = [];
  const q = {
    async sendBatch(msgs: Iterable<{ body: unknown }>) {
      for (const m of msgs) sent.push(m.body as SyncEvent);
    },
    async send(body: unknown) {
      sent.push(body as SyncEvent);
    },
  } as unknown as Queue;
  return { sent, queues: new Proxy({}, { get: () => q }) as QueueBindings };
}

async function setup(live: number, archived: number, opts: PortalOptions = {}) {
  const ring = await parseTokenKeys(
    `steps:${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`,
  );
  const portalId = 70_000_000 + Math.floor(Math.random() * 10_000_000);
  const tokens = { accessToken: "a", refreshToken: "r", expiresAt: new Date(Date.now() + 1_800_000).toISOString() };
  const connection = await saveConnection({ rpc: rpc(), ring }, { portalId, scopes: [], tokens });
  const portal = fakePortal(live, archived, opts);
  const { sent, queues } = recordingQueues();
  const kicks: string[] = [];
  const deps: HubSpotSyncDeps = {
    rpc: rpc(),
    queues,
    hubspot: async () => ({ connection, client: portal.client }) as unknown as HubSpotWiring,
    kick: async (id) => void kicks.push(id),
  };
  const session = await createSession(rpc(), {
    sessionId: `steps-${crypto.randomUUID()}`,
    type: "full",
    connectionId: connection.id,
  });
  return { deps, session, portal, sent, kicks };
}

describe("HubSpot full sync steps", () => {
  it("runs in bounded steps to completion, live then archived, recording the cursor after each page", async () => {
    const { deps, session, portal, sent } = await setup(450, 120);
    const outcomes: string[] = [];
    for (;;) {
      const { next } = await runFullSyncStep(deps, session.id, { pagesPerStep: 2 });
      outcomes.push(next);
      if (next === "done") break;
      const s = await getSession(rpc(), session.id);
      expect(s.status).toBe("running");
      expect(s.after_cursor).not.toBeNull();
    }
    // 5 live pages and 2 archived ones, two per step.
    expect(outcomes).toEqual(["continue", "continue", "continue", "done"]);
    const done = await getSession(rpc(), session.id);
    expect(done).toMatchObject({ status: "completed", records_count: 450, archived_count: 120, after_cursor: null });
    expect(Date.parse(done.high_water_mark!)).toBe(Date.parse(done.start_time!));
    expect(sent.filter((e) => e.op === "upsert")).toHaveLength(450);
    expect(sent.filter((e) => e.op === "delete")).toHaveLength(120);
    expect(portal.reads).toHaveLength(7);
    // A tick arriving after the end does nothing.
    expect(await runFullSyncStep(deps, session.id)).toEqual({ next: "done" });
  });

  it("a step that fails mid-way resumes from the last recorded page: every contact queued, none lost", async () => {
    const { deps, session, portal, sent } = await setup(500, 0, { failOnce: new Set(["live:300"]) });
    await expect(runFullSyncStep(deps, session.id, { pagesPerStep: 10 })).rejects.toMatchObject({
      code: "HUBSPOT_UNAVAILABLE",
    });
    const stopped = await getSession(rpc(), session.id);
    expect(stopped).toMatchObject({ status: "running", records_count: 300, after_cursor: "300" });
    // The lease was given back: the retried tick goes on at once.
    expect(await runFullSyncStep(deps, session.id, { pagesPerStep: 10 })).toEqual({ next: "done" });
    const ids = new Set(sent.map((e) => e.key.id));
    expect(ids.size).toBe(500);
    expect(portal.reads.filter((r) => r === "live:300")).toHaveLength(2);
    expect((await getSession(rpc(), session.id)).records_count).toBe(500);
  });

  it("duplicate ticks: one step holds the session's lease, the other answers busy", async () => {
    // HubSpot answers slowly, so the first step still holds the lease when the second arrives.
    const { deps, session } = await setup(300, 0, { delayMs: 500 });
    const first = runFullSyncStep(deps, session.id, { pagesPerStep: 1 });
    await new Promise((r) => setTimeout(r, 100));
    const [a, b] = await Promise.all([first, runFullSyncStep(deps, session.id, { pagesPerStep: 1 })]);
    expect([a.next, b.next].sort()).toEqual(["busy", "continue"]);
    expect((await getSession(rpc(), session.id)).records_count).toBe(100);
  });

  it("the cron fails an incremental run that died (lease expired), then starts the portal's first full sync", async () => {
    const { deps, session: full } = await setup(10, 0);
    // The portal's sessions so far: a full one that failed, and an incremental run that died.
    await pg()`update sync_sessions set status = 'failed', error = 'test', end_time = now() where id = ${full.id}`;
    const connectionId = full.connection_id!;
    const dead = await createSession(rpc(), {
      sessionId: `dead-${crypto.randomUUID()}`,
      type: "incremental",
      connectionId,
    });
    await startSession(rpc(), dead.id);
    await pg()`update sync_sessions set updated_at = now() - interval '1 minute' where id = ${dead.id}`;

    expect(await hubspotCron(deps, { intervalMs: 0 })).toEqual({ abandoned: dead.id });
    expect(await getSession(rpc(), dead.id)).toMatchObject({ status: "failed" });
    expect((await getSession(rpc(), dead.id)).error).toContain("abandoned");

    const kicks: string[] = [];
    const started = await hubspotCron({ ...deps, kick: async (id) => void kicks.push(id) }, { intervalMs: 0 });
    expect(started).toHaveProperty("started");
    expect(kicks).toEqual([(started as { started: string }).started]);
    // While that full sync is pending with no lease, the cron kicks it again (its tick may be lost).
    expect(await hubspotCron({ ...deps, kick: async (id) => void kicks.push(id) }, { intervalMs: 0 })).toMatchObject({
      kicked: true,
    });
  });
});

// What the operator sees of it: sync_logs per page and per refused contact, error_logs categorised.
describe("HubSpot full sync: the session's logs and errors", () => {
  const logsOf = (id: string) =>
    pg()<Array<{ entity_id: string; status: string; details: Record<string, any> }>>`
      select entity_id, status, details from public.sync_logs where session_id = ${id} order by seq`;
  const errorsOf = (id: string) =>
    pg()<
      Array<{ error_type: string; error_message: string; stack_trace: string | null; context: Record<string, any> }>
    >`
      select error_type, error_message, stack_trace, context from public.error_logs where session_id = ${id} order by seq`;

  it("a line per page read (counts, next cursor) and per contact refused for bad data, and a validation error", async () => {
    const { deps, session } = await setup(250, 30, { bad: [5] });
    while ((await runFullSyncStep(deps, session.id, { pagesPerStep: 10 })).next !== "done");
    const logs = await logsOf(session.id);
    expect(logs.map((l) => [l.entity_id, l.status])).toEqual([
      ["live:start", "warning"],
      ["bad-5", "error"],
      ["live:100", "success"],
      ["live:200", "success"],
      ["archived:start", "success"],
    ]);
    expect(logs[0]!.details).toEqual({ read: 100, archived: 0, queued: 99, refused: 1, cursor: "100" });
    expect(logs[1]!.details).toMatchObject({ page: "live:start", code: expect.any(String) });
    expect(logs[1]!.details.reason).toBeTruthy();
    expect(logs[3]!.details).toMatchObject({ read: 50, queued: 50, cursor: null });
    expect(logs[4]!.details).toMatchObject({ read: 30, archived: 30, queued: 30, cursor: null });
    const errors = await errorsOf(session.id);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      error_type: "validation",
      context: { page: "live:start", refused: 1, hubspot_ids: ["bad-5"] },
    });
    expect((await getSession(rpc(), session.id)).error_count).toBe(1);
  });

  it("a 429 and a 5xx beyond the client's retries are rate_limit and network (retried); a 401 after renewal is auth and fails the session", async () => {
    const what = "HubSpot GET /crm/v3/objects/contacts answered";
    const { deps, session } = await setup(300, 0, {
      failures: {
        "live:100": [
          new TransientError("HUBSPOT_UNAVAILABLE", `${what} 429 (RATE_LIMIT: TEN_SECONDLY_ROLLING) (attempt 5)`),
          new TransientError("HUBSPOT_UNAVAILABLE", `${what} 503 (attempt 5)`),
          new ValidationError(
            "HUBSPOT_AUTH_FAILED",
            `${what} 401 (EXPIRED_AUTHENTICATION), even with a renewed token; sent Authorization: Bearer CJSP5qf1KhICAQEYs-gDIIGOBii1hQIyGQAf3xBKmlwHjX7OIpuIFEavB2-qYAGQsF4`,
          ),
        ],
      },
    });
    await expect(runFullSyncStep(deps, session.id, { pagesPerStep: 5 })).rejects.toMatchObject({
      code: "HUBSPOT_UNAVAILABLE",
    });
    await expect(runFullSyncStep(deps, session.id, { pagesPerStep: 5 })).rejects.toMatchObject({
      code: "HUBSPOT_UNAVAILABLE",
    });
    expect((await getSession(rpc(), session.id)).status).toBe("running");
    expect(await runFullSyncStep(deps, session.id, { pagesPerStep: 5 })).toEqual({ next: "done" });
    expect(await getSession(rpc(), session.id)).toMatchObject({ status: "failed", records_count: 100 });

    const errors = await errorsOf(session.id);
    expect(errors.map((e) => [e.error_type, e.context.code, e.context.retryable])).toEqual([
      ["rate_limit", "HUBSPOT_UNAVAILABLE", true],
      ["network", "HUBSPOT_UNAVAILABLE", true],
      ["auth", "HUBSPOT_AUTH_FAILED", false],
    ]);
    // Sanitised: the token quoted in the message is gone, and the stack trace carries none.
    expect(errors[2]!.error_message).toContain("Bearer [redacted]");
    expect(JSON.stringify(errors)).not.toContain("CJSP5qf1KhICAQEYs");
    expect(errors[2]!.stack_trace).toMatch(/ValidationError|at /);
    // The page read before the failure is logged; the failing page is not.
    expect((await logsOf(session.id)).map((l) => l.entity_id)).toEqual(["live:start"]);
    const events = await pg()<Array<{ event: string; data: Record<string, any> }>>`
      select event, data from public.hubspot_sync_events where session_id = ${session.id} order by seq`;
    expect(events.map((e) => e.event)).toEqual(["sync:start", "sync:progress", "sync:error"]);
    expect(events[2]!.data.error).toMatch(/^HUBSPOT_AUTH_FAILED/);
  });
});
