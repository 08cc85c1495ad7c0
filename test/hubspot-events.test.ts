import { describe, expect, it } from "vitest";
import { moveConnection, saveConnection } from "../core/hubspot/connections";
import { completeSession, createSession, failSession, recordProgress, startSession } from "../core/hubspot/sessions";
import { sessionLogs } from "../core/hubspot/session-log";
import { eventsHead } from "../core/hubspot/sync-events";
import { openEventStream } from "../src/services/hubspot-event-stream";
import { parseTokenKeys } from "../core/hubspot/token-cipher";
import { postgresRpc } from "../core/stores/supabase-postgres";
import type { RecordedSyncEvent } from "../schemas/hubspot/sync-event";
import { asRole } from "./support/as-role";
import { get, sendWith, signIn } from "./support/console";
import { pg, SECRETS } from "./support/helpers";

// Migration 0016: the HubSpot sync's recorded events (written by triggers on the real transitions),
// the session log writers and readers, what the Supabase API roles may do with them, and the
// stream GET /v1/hubspot/events (and its console twin) built on them.

const rpc = () => postgresRpc(pg());
const newSessionId = () => `events-${crypto.randomUUID()}`;

/** Events of one session (other test files write sessions into the same Postgres meanwhile). */
async function eventsOf(sessionId: string): Promise<RecordedSyncEvent[]> {
  const rows = await pg()<RecordedSyncEvent[]>`
    select seq::float8 as seq, event, session_id, connection_id, data, at from public.hubspot_sync_events
     where session_id = ${sessionId} order by seq`;
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}

async function newConnection() {
  const ring = await parseTokenKeys(`ev:${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`);
  const portalId = 40_000_000 + Math.floor(Math.random() * 10_000_000);
  const tokens = {
    accessToken: "access-secret-token",
    refreshToken: "refresh-secret-token",
    expiresAt: new Date(Date.now() + 1_800_000).toISOString(),
  };
  return saveConnection({ rpc: rpc(), ring }, { portalId, scopes: [], tokens });
}

const pageLine = (id: string) => ({
  operation: "sync",
  entity_type: "contact",
  entity_id: id,
  status: "success",
  details: { read: 100, queued: 100, refused: 0, archived: 0, cursor: "100" },
});

describe("recorded HubSpot sync events (triggers)", () => {
  it("a session's real transitions record sync:start, sync:progress, sync:complete, in order; a finished session keeps its last progress only", async () => {
    const s = await createSession(rpc(), { sessionId: newSessionId(), type: "full" });
    expect(await eventsOf(s.id)).toEqual([]); // created pending: no event yet
    await startSession(rpc(), s.id);
    await recordProgress(rpc(), s.id, { records_count: 100, after: "100" });
    await recordProgress(rpc(), s.id, { records_count: 100, after: "100" }); // nothing moved: no event
    await recordProgress(rpc(), s.id, { records_count: 200, after: "200", error_count: 1 });
    const running = await eventsOf(s.id);
    expect(running.map((e) => e.event)).toEqual(["sync:start", "sync:progress", "sync:progress"]);
    expect(running[2]!.data).toMatchObject({ session: s.session_id, records_count: 200, error_count: 1, after: "200" });

    await completeSession(rpc(), s.id, { records_count: 250, after: null });
    const done = await eventsOf(s.id);
    expect(done.map((e) => e.event)).toEqual(["sync:start", "sync:progress", "sync:complete"]);
    expect(done[1]!.data).toMatchObject({ records_count: 200 }); // the last progress is the one kept
    expect(done[2]!.data).toMatchObject({ records_count: 250, type: "full" });
    expect(typeof done[2]!.data.duration_ms).toBe("number");
    expect(done.map((e) => e.seq)).toEqual([...done.map((e) => e.seq)].sort((a, b) => a - b));
  });

  it("a failed session records sync:error with its reason; pending → failed too", async () => {
    const s = await createSession(rpc(), { sessionId: newSessionId(), type: "incremental" });
    await startSession(rpc(), s.id);
    await failSession(rpc(), s.id, "HUBSPOT_AUTH_FAILED: HubSpot refused the refresh", { records_count: 7 });
    const events = await eventsOf(s.id);
    expect(events.map((e) => e.event)).toEqual(["sync:start", "sync:error"]);
    expect(events[1]!.data).toMatchObject({
      error: "HUBSPOT_AUTH_FAILED: HubSpot refused the refresh",
      records_count: 7,
    });

    const never = await createSession(rpc(), { sessionId: newSessionId(), type: "full" });
    await failSession(rpc(), never.id, "connection revoked");
    expect((await eventsOf(never.id)).map((e) => e.event)).toEqual(["sync:error"]);
  });

  it("a connection's status changes record connection:status with from and to, and never a token", async () => {
    const c = await newConnection();
    await moveConnection(rpc(), c.id, "error", "HubSpot refused the refresh_token grant (400)");
    await moveConnection(rpc(), c.id, "disconnected");
    const rows = await pg()<Array<{ data: Record<string, unknown>; text: string }>>`
      select data, data::text as text from public.hubspot_sync_events
       where connection_id = ${c.id} and event = 'connection:status' order by seq`;
    expect(rows.map((r) => [r.data.from, r.data.to])).toEqual([
      [null, "connected"],
      ["connected", "error"],
      ["error", "disconnected"],
    ]);
    expect(rows[1]!.data).toMatchObject({ portal_id: Number(c.portal_id), error: expect.stringContaining("refused") });
    for (const r of rows) {
      expect(Object.keys(r.data).sort()).toEqual(["error", "from", "portal_id", "to"]);
      expect(r.text).not.toMatch(/secret-token|ciphertext|"iv"/);
    }
  });

  it("the table refuses a bad row: unknown event, a sync event without its session, data that is not an object", async () => {
    const s = await createSession(rpc(), { sessionId: newSessionId(), type: "full" });
    const bad = [
      pg()`insert into public.hubspot_sync_events (event, session_id) values ('sync:paused', ${s.id})`,
      pg()`insert into public.hubspot_sync_events (event, connection_id) values ('sync:start', gen_random_uuid())`,
      pg()`insert into public.hubspot_sync_events (event, connection_id) values ('connection:status', null)`,
      pg()`insert into public.hubspot_sync_events (event, session_id, data) values ('sync:start', ${s.id}, '[1]')`,
    ];
    for (const attempt of bad) expect(await attempt.catch((e: { code: string }) => e)).toMatchObject({ code: "23514" });
    expect(await eventsOf(s.id)).toEqual([]);
  });
});

describe("session log writers and readers", () => {
  it("a bad line refuses the whole write (nothing half-written); with a move, the move stands and log_error says why", async () => {
    const s = await createSession(rpc(), { sessionId: newSessionId(), type: "full" });
    await startSession(rpc(), s.id);
    const refused = await rpc()
      .call("sync_hubspot_log_write", {
        p: {
          session_id: s.id,
          logs: [pageLine("live:start"), { ...pageLine("live:100"), status: "fine" }],
          errors: [{ error_type: "auth", error_message: "x", context: {} }],
        },
      })
      .catch((e: { code: string }) => e);
    expect(refused).toMatchObject({ code: "CHECK_VIOLATION" });
    expect((await sessionLogs(rpc(), s.id, { limit: 50 })).items).toEqual([]);
    expect(await pg()`select 1 from public.error_logs where session_id = ${s.id}`).toHaveLength(0);
    const badCategory = await rpc()
      .call("sync_hubspot_log_write", {
        p: { session_id: s.id, errors: [{ error_type: "oops", error_message: "x" }] },
      })
      .catch((e: { code: string }) => e);
    expect(badCategory).toMatchObject({ code: "CHECK_VIOLATION" });

    const answer = await rpc().call<{ refused: boolean; log_error?: string }>("sync_hubspot_session_advance_logged", {
      p_id: s.id,
      p_status: "running",
      p_progress: { records_count: 100, expect_status: "running" },
      p_log: { logs: [{ ...pageLine("live:start"), operation: "merge" }] },
    });
    expect(answer.refused).toBe(false);
    expect(answer.log_error).toMatch(/sync_logs_operation/);
    expect(await pg()`select records_count from public.sync_sessions where id = ${s.id}`).toEqual([
      { records_count: 100 },
    ]);
  });

  it("a session's lines page in writing order", async () => {
    const s = await createSession(rpc(), { sessionId: newSessionId(), type: "full" });
    await rpc().call("sync_hubspot_log_write", {
      p: { session_id: s.id, logs: Array.from({ length: 5 }, (_, i) => pageLine(`live:${i * 100}`)) },
    });
    const first = await sessionLogs(rpc(), s.id, { limit: 3 });
    expect(first.items.map((l) => l.entity_id)).toEqual(["live:0", "live:100", "live:200"]);
    expect(first.next_after).not.toBeNull();
    const rest = await sessionLogs(rpc(), s.id, { after: first.next_after!, limit: 3 });
    expect(rest.items.map((l) => l.entity_id)).toEqual(["live:300", "live:400"]);
    expect(rest.next_after).toBeNull();
    // Only the two log tables can be read so.
    const other = await rpc()
      .call("sync_hubspot_session_lines", { p_table: "sync_sessions", p_session_id: s.id, p_after: 0, p_limit: 1 })
      .catch((e: { code: string }) => e);
    expect(other).toMatchObject({ code: "DATA_EXCEPTION", message: expect.stringContaining("INVALID_ARGUMENT") });
  });
});

describe("the Supabase API roles and migration 0016", () => {
  const tables = ["hubspot_sync_events", "sync_logs", "error_logs"];
  const calls = [
    "select public.sync_hubspot_events_after(0, 10)",
    "select public.sync_hubspot_events_head()",
    "select public.sync_hubspot_session_lines('sync_logs', gen_random_uuid(), 0, 10)",
    "select public.sync_hubspot_session_lines('error_logs', gen_random_uuid(), 0, 10)",
    `select public.sync_hubspot_log_write('{"session_id": null, "errors": [{"error_type": "internal", "error_message": "role test"}]}')`,
    "select public.sync_hubspot_session_advance_logged(gen_random_uuid(), 'running', '{}', '{}')",
  ];

  it("anon and authenticated can neither read nor write the new table and lines, nor call the new functions", async () => {
    for (const role of ["anon", "authenticated"] as const) {
      for (const table of tables)
        for (const statement of [
          `select * from public.${table}`,
          `delete from public.${table}`,
          `update public.${table} set session_id = session_id`,
        ]) {
          expect(await asRole(role, (tx) => tx.unsafe(statement)), `${role}: ${statement}`).toMatchObject({
            ok: false,
            code: "42501",
          });
        }
      const insert = await asRole(
        role,
        (tx) =>
          tx`insert into public.hubspot_sync_events (event, connection_id) values ('connection:status', gen_random_uuid())`,
      );
      expect(insert, `${role}: insert an event`).toMatchObject({ ok: false, code: "42501" });
      for (const call of calls)
        expect(await asRole(role, (tx) => tx.unsafe(call)), `${role}: ${call}`).toMatchObject({
          ok: false,
          code: "42501",
        });
    }
    const [rls] =
      await pg()`select c.relrowsecurity, (select count(*) from pg_policy p where p.polrelid = c.oid)::int as policies
      from pg_class c where c.oid = 'public.hubspot_sync_events'::regclass`;
    expect(rls).toEqual({ relrowsecurity: true, policies: 0 });
  });

  it("service_role calls every new function; the triggers fire for its writes", async () => {
    for (const call of calls)
      expect(await asRole("service_role", (tx) => tx.unsafe(call)), `service_role: ${call}`).toMatchObject({
        ok: true,
      });
    const result = await asRole("service_role", async (tx) => {
      const [s] =
        await tx`select public.sync_hubspot_session_create(jsonb_build_object('session_id', ${newSessionId()}::text, 'type', 'full')) as s`;
      const id = (s!.s as { id: string }).id;
      await tx`select public.sync_hubspot_session_advance(${id}, 'running', '{}')`;
      const [e] = await tx`select public.sync_hubspot_events_after(0, 500) as e`;
      return (e!.e as RecordedSyncEvent[]).filter((x) => x.session_id === id).map((x) => x.event);
    });
    expect(result).toEqual({ ok: true, value: ["sync:start"] });
  });
});

// ---------------------------------------------------------------------------------------------
// The stream.

/** Reads a whole (bounded) SSE answer into its frames: id, event, data, comments and retry. */
async function frames(res: Response) {
  const text = await res.text();
  const blocks = text.split("\n\n").filter(Boolean);
  return {
    text,
    events: blocks
      .filter((b) => b.includes("\nevent: "))
      .map((b) => {
        const field = (name: string) => b.match(new RegExp(`^${name}: ?(.*)$`, "m"))?.[1];
        return { id: Number(field("id")), event: field("event")!, data: JSON.parse(field("data")!) };
      }),
  };
}

const STREAM_ENV = { HUBSPOT_EVENT_STREAM_SECONDS: "1" };
const api = (path: string, headers: Record<string, string> = {}) =>
  sendWith(STREAM_ENV, path, { headers: { authorization: `Bearer ${SECRETS.admin}`, ...headers } });

async function finishedSession() {
  const s = await createSession(rpc(), { sessionId: newSessionId(), type: "full" });
  await startSession(rpc(), s.id);
  await recordProgress(rpc(), s.id, { records_count: 100, after: "100" });
  await completeSession(rpc(), s.id, { records_count: 150 });
  return { session: s, events: await eventsOf(s.id) };
}

describe("GET /v1/hubspot/events (server-sent events)", () => {
  it("is refused without operator auth, and with a bad cursor, before any stream", async () => {
    const none = await sendWith(STREAM_ENV, "/v1/hubspot/events");
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ success: false, error: { code: "UNAUTHORIZED" } });
    const wrong = await sendWith(STREAM_ENV, "/v1/hubspot/events", { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    for (const bad of [api("/v1/hubspot/events?after=-1"), api("/v1/hubspot/events", { "last-event-id": "abc" })]) {
      const res = await bad;
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "INVALID_REQUEST" } });
    }
  });

  it("sends the events after ?after= in order (id = seq, event = name, data = JSON with words), then ends with a retry hint", async () => {
    const { session, events } = await finishedSession();
    const started = Date.now();
    const res = await api(`/v1/hubspot/events?after=${events[0]!.seq - 1}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const { text, events: got } = await frames(res);
    const elapsed = Date.now() - started;
    const ours = got.filter((f) => f.data.session_id === session.id);
    expect(ours.map((f) => f.event)).toEqual(["sync:start", "sync:progress", "sync:complete"]);
    expect(ours.map((f) => f.id)).toEqual(events.map((e) => e.seq));
    expect(ours[2]!.data).toMatchObject({ seq: events[2]!.seq, records_count: 150, session: session.session_id });
    expect(ours[2]!.data.summary).toMatch(/completed: 150 contacts/);
    // Every id is greater than the one before: the stream is in seq order.
    expect(got.map((f) => f.id)).toEqual([...got.map((f) => f.id)].sort((a, b) => a - b));
    expect(got[0]!.id).toBeGreaterThan(events[0]!.seq - 1);
    // Bounded: it ends by itself (HUBSPOT_EVENT_STREAM_SECONDS = 1 here) with a retry hint, after a comment heartbeat.
    expect(text.startsWith(": HubSpot sync events after")).toBe(true);
    expect(text).toMatch(/\nretry: \d+\n: stream ends; reconnecting resumes after \d+\n\n$/);
    expect(elapsed).toBeLessThan(15_000);
  });

  it("resumes by Last-Event-ID (it wins over ?after=), and by default sends only what comes next", async () => {
    const { session, events } = await finishedSession();
    const resumed = await frames(await api(`/v1/hubspot/events?after=0`, { "last-event-id": String(events[0]!.seq) }));
    expect(resumed.events.filter((f) => f.data.session_id === session.id).map((f) => f.event)).toEqual([
      "sync:progress",
      "sync:complete",
    ]);
    expect(resumed.events.every((f) => f.id > events[0]!.seq)).toBe(true);

    // No cursor: from the newest event on. A session started while the stream is open arrives.
    const open = api("/v1/hubspot/events");
    await new Promise((r) => setTimeout(r, 300));
    const later = await createSession(rpc(), { sessionId: newSessionId(), type: "incremental" });
    await startSession(rpc(), later.id);
    const live = await frames(await open);
    expect(live.events.some((f) => f.data.session_id === session.id)).toBe(false);
    expect(live.events.filter((f) => f.data.session_id === later.id).map((f) => f.event)).toEqual(["sync:start"]);
  });

  it("sends a comment heartbeat after 10 s without an event, polls about once a second, ends on time", async () => {
    // The stream's own clock, played: 25 s pass in a moment, every sleep is a poll.
    let t = Date.parse("2026-01-01T00:00:00Z");
    const polls: number[] = [];
    const stream = await openEventStream(
      {
        rpc: rpc(),
        now: () => t,
        sleep: async (ms) => {
          polls.push(ms);
          t += ms;
        },
      },
      // Far past the head: nothing to send, whatever other tests write meanwhile.
      { after: (await eventsHead(rpc())) + 1_000_000, seconds: 25 },
    );
    const text = await new Response(stream).text();
    expect(text.match(/^: heartbeat 2026-01-01T00:00:\d\d\.000Z$/gm)).toEqual([
      ": heartbeat 2026-01-01T00:00:10.000Z",
      ": heartbeat 2026-01-01T00:00:20.000Z",
    ]);
    expect(polls).toHaveLength(25);
    expect(polls.every((ms) => ms === 1000)).toBe(true);
    expect(text).toMatch(/\nretry: 1000\n: stream ends; reconnecting resumes after \d+\n\n$/);
  });

  it("is in /v1/openapi.json as a text/event-stream answer with its cursor parameters", async () => {
    const doc = (await (await sendWith({}, "/v1/openapi.json")).json()) as {
      paths: Record<string, Record<string, any>>;
    };
    const op = doc.paths["/v1/hubspot/events"]!.get;
    expect(Object.keys(op.responses["200"].content)).toEqual(["text/event-stream"]);
    expect(op.responses["200"].content["text/event-stream"].schema.properties.event.enum).toContain("sync:progress");
    expect(op.parameters.map((p: { name: string }) => p.name)).toEqual(["after", "Last-Event-ID"]);
  });

  it("the console's twin needs the console session, then streams the same events", async () => {
    const res = await get("/console/hubspot/events");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/console/login");
    const { session, events } = await finishedSession();
    const { cookie } = await signIn();
    const streamed = await sendWith(STREAM_ENV, `/console/hubspot/events?after=${events[0]!.seq - 1}`, {
      headers: { cookie },
    });
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get("content-type")).toMatch(/^text\/event-stream/);
    // The console's CSP (default-src 'self') lets the page's EventSource connect to it.
    expect(streamed.headers.get("content-security-policy")).toContain("default-src 'self'");
    const { events: got } = await frames(streamed);
    expect(got.filter((f) => f.data.session_id === session.id).map((f) => f.id)).toEqual(events.map((e) => e.seq));
  });
});

// The console's reads of these: the feed fragment and a session's detail page.
describe("console: the event feed and a session's detail", () => {
  it("the page carries the feed with its stream; the fragment and the session page show events, logs and errors", async () => {
    const { session } = await finishedSession();
    await rpc().call("sync_hubspot_log_write", {
      p: {
        session_id: session.id,
        logs: [pageLine("live:start")],
        errors: [{ error_type: "rate_limit", error_message: "HUBSPOT_UNAVAILABLE: answered 429", context: {} }],
      },
    });
    const { cookie } = await signIn();
    const page = await (await sendWith({}, "/console/hubspot", { headers: { cookie } })).text();
    expect(page).toMatch(/data-events="\/console\/hubspot\/events" data-events-after="\d+"/);
    expect(page).toContain(`href="/console/hubspot/sessions/${session.id}"`);
    const fragment = await (await sendWith({}, "/console/hubspot/live/events", { headers: { cookie } })).text();
    expect(fragment).not.toContain("<html");
    expect(fragment).toContain('data-event="sync:complete"');

    const detail = await sendWith({}, `/console/hubspot/sessions/${session.id}`, { headers: { cookie } });
    expect(detail.status).toBe(200);
    const html = await detail.text();
    expect(html).toContain(session.session_id);
    expect(html).toContain("<code>live:start</code>");
    expect(html).toContain("rate_limit");
    expect(html).toContain("HUBSPOT_UNAVAILABLE: answered 429");

    const missing = await sendWith({}, `/console/hubspot/sessions/${crypto.randomUUID()}`, { headers: { cookie } });
    expect(missing.status).toBe(404);
    const bad = await sendWith({}, "/console/hubspot/sessions/not-a-uuid", { headers: { cookie } });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("INVALID_REQUEST");
  });
});
