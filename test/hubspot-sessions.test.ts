import { describe, expect, it } from "vitest";
import { saveConnection } from "../core/hubspot/connections";
import {
  completeSession,
  createSession,
  failSession,
  getSession,
  recordProgress,
  startSession,
} from "../core/hubspot/sessions";
import { parseTokenKeys } from "../core/hubspot/token-cipher";
import { postgresRpc } from "../core/stores/supabase-postgres";
import { connectionMachine } from "../schemas/hubspot/connection";
import { syncSessionMachine } from "../schemas/hubspot/sync-session";
import { transitionPairs } from "../schemas/state-machine";
import { pg } from "./support/helpers";

// Sync sessions (seed 002): pending → running → completed | failed, on the real Postgres.

const rpc = () => postgresRpc(pg());
const newSessionId = () => `test-${crypto.randomUUID()}`;

async function refusal(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; message: string; details?: any; status: number };
  }
  throw new Error("expected a refusal");
}

async function newConnection(): Promise<string> {
  const ring = await parseTokenKeys(
    `sessions:${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`,
  );
  const portalId = 50_000_000 + Math.floor(Math.random() * 10_000_000);
  const tokens = { accessToken: "a", refreshToken: "r", expiresAt: new Date(Date.now() + 1_800_000).toISOString() };
  return (await saveConnection({ rpc: rpc(), ring }, { portalId, scopes: [], tokens })).id;
}

describe("sync sessions", () => {
  it("pending → running → completed, with progress as totals and a resumable cursor", async () => {
    const created = await createSession(rpc(), { sessionId: newSessionId(), type: "full" });
    expect(created).toMatchObject({ status: "pending", records_count: 0, start_time: null, end_time: null });

    const running = await startSession(rpc(), created.id);
    expect(running.status).toBe("running");
    expect(running.start_time).not.toBeNull();

    await recordProgress(rpc(), created.id, { records_count: 200, after: "cursor-200", archived_count: 3 });
    // A late or repeated call with lower totals changes nothing: no double count, no cursor moved back.
    await recordProgress(rpc(), created.id, { records_count: 100, after: "cursor-100" });
    expect(await getSession(rpc(), created.id)).toMatchObject({
      records_count: 200,
      archived_count: 3,
      after_cursor: "cursor-200",
    });

    const done = await completeSession(rpc(), created.id, {
      records_count: 250,
      after: null,
      high_water_mark: "2025-05-06T07:08:09.123Z",
    });
    expect(done).toMatchObject({ status: "completed", records_count: 250, after_cursor: null });
    expect(Date.parse(done.end_time!)).toBeGreaterThanOrEqual(Date.parse(done.start_time!));
    expect(Date.parse(done.high_water_mark!)).toBe(Date.parse("2025-05-06T07:08:09.123Z"));
  });

  it("refuses moves the status machine does not allow, with INVALID_TRANSITION and the allowed moves; nothing is written", async () => {
    const s = await createSession(rpc(), { sessionId: newSessionId(), type: "incremental" });
    const early = await refusal(completeSession(rpc(), s.id, { records_count: 5 }));
    expect(early).toMatchObject({
      code: "INVALID_TRANSITION",
      status: 409,
      details: { from: "pending", to: "completed" },
    });
    expect(early.details.allowed).toEqual(["running", "failed"]);
    const progressBeforeStart = await refusal(recordProgress(rpc(), s.id, { records_count: 5 }));
    expect(progressBeforeStart).toMatchObject({ code: "INVALID_TRANSITION" });
    expect(progressBeforeStart.message).toMatch(/only a running session takes progress/);
    expect(await getSession(rpc(), s.id)).toMatchObject({ status: "pending", records_count: 0 });

    await startSession(rpc(), s.id);
    const failed = await failSession(rpc(), s.id, "HubSpot answered 401 twice", { records_count: 7, error_count: 1 });
    expect(failed).toMatchObject({ status: "failed", error: "HubSpot answered 401 twice", records_count: 7 });
    for (const move of [
      () => startSession(rpc(), s.id),
      () => completeSession(rpc(), s.id),
      () => failSession(rpc(), s.id, "again"),
      () => recordProgress(rpc(), s.id, { records_count: 99 }),
    ]) {
      const error = await refusal(move());
      expect(error.code).toBe("INVALID_TRANSITION");
      expect(error.details.allowed).toEqual([]);
    }
    expect(await getSession(rpc(), s.id)).toMatchObject({ status: "failed", records_count: 7, error_count: 1 });

    // A pending session may fail before it starts (the seed's pending → error).
    const never = await createSession(rpc(), { sessionId: newSessionId(), type: "full" });
    expect(await failSession(rpc(), never.id, "connection revoked")).toMatchObject({
      status: "failed",
      start_time: null,
    });
  });

  it("one session in flight per connection; session ids are unique; unknown sessions are NOT_FOUND", async () => {
    const connection = await newConnection();
    const first = await createSession(rpc(), { sessionId: newSessionId(), type: "full", connectionId: connection });
    expect(
      await refusal(createSession(rpc(), { sessionId: newSessionId(), type: "incremental", connectionId: connection })),
    ).toMatchObject({
      code: "SESSION_ALREADY_ACTIVE",
      status: 409,
    });
    await startSession(rpc(), first.id);
    await completeSession(rpc(), first.id);
    const next = await createSession(rpc(), {
      sessionId: newSessionId(),
      type: "incremental",
      connectionId: connection,
    });
    expect(next.status).toBe("pending");

    expect(await refusal(createSession(rpc(), { sessionId: first.session_id, type: "full" }))).toMatchObject({
      code: "ALREADY_EXISTS",
    });
    expect(await refusal(getSession(rpc(), crypto.randomUUID()))).toMatchObject({ code: "NOT_FOUND", status: 404 });
    expect(await refusal(startSession(rpc(), crypto.randomUUID()))).toMatchObject({ code: "NOT_FOUND" });
  });

  it("the table itself refuses a bad move, negative counts and an unknown type, whoever writes it", async () => {
    const s = await createSession(rpc(), { sessionId: newSessionId(), type: "full" });
    const attempts = [
      pg()`update sync_sessions set status = 'completed', start_time = now(), end_time = now() where id = ${s.id}`,
      pg()`update sync_sessions set records_count = -1 where id = ${s.id}`,
      pg()`insert into sync_sessions (session_id, type) values (${newSessionId()}, 'partial')`,
      pg()`update sync_sessions set status = 'running' where id = ${s.id}`, // running without start_time
    ];
    for (const attempt of attempts)
      expect(await attempt.catch((e: { code: string }) => e)).toMatchObject({ code: "23514" });
    expect(await getSession(rpc(), s.id)).toMatchObject({ status: "pending", records_count: 0 });
  });

  it("the status machines in schemas/ and in Postgres list the same moves", async () => {
    for (const [entity, machine] of [
      ["sync_sessions", syncSessionMachine],
      ["hubspot_connections", connectionMachine],
    ] as const) {
      const rows = await pg()<Array<{ from_state: string; to_state: string }>>`
        select from_state, to_state from sync.state_transitions where entity = ${entity} and field = 'status'`;
      const sql = rows.map((r) => `${r.from_state}>${r.to_state}`).sort();
      expect(sql, entity).toEqual(
        transitionPairs(machine)
          .map(([f, t]) => `${f}>${t}`)
          .sort(),
      );
    }
  });

  it("the seed's log tables keep their checks", async () => {
    const s = await createSession(rpc(), { sessionId: newSessionId(), type: "full" });
    await pg()`insert into sync_logs (session_id, operation, entity_type, entity_id, status) values (${s.id}, 'sync', 'contact', '51', 'success')`;
    const bad = [
      pg()`insert into sync_logs (session_id, operation, entity_type, entity_id, status) values (${s.id}, 'merge', 'contact', '51', 'success')`,
      pg()`insert into sync_logs (session_id, operation, entity_type, entity_id, status) values (${s.id}, 'sync', 'ticket', '51', 'success')`,
      pg()`insert into hubspot_audit_logs (entity_type, entity_id, operation, old_data, new_data) values ('contact', '51', 'create', '{}', '{}')`,
      pg()`insert into hubspot_audit_logs (entity_type, entity_id, operation, old_data, new_data) values ('contact', '51', 'delete', null, '{}')`,
      pg()`insert into error_logs (error_type, error_message) values ('whatever', 'boom')`,
    ];
    for (const attempt of bad) expect(await attempt.catch((e: { code: string }) => e)).toMatchObject({ code: "23514" });
    const orphan = await pg()`insert into sync_logs (session_id, operation, entity_type, entity_id, status)
      values (${crypto.randomUUID()}, 'sync', 'contact', '51', 'success')`.catch((e: { code: string }) => e);
    expect(orphan).toMatchObject({ code: "23503" });
    await pg()`insert into error_logs (session_id, error_type, error_message, context) values (${s.id}, 'rate_limit', '429', '{"retry_after": 10}')`;
  });
});
