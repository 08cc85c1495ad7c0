import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { newEventId, type SyncEvent } from "../schemas/event";
import { auditEntrySchema, jobSchema, planSchema, type Job } from "../schemas/operator-api";
import { deliver, insertCrmRows } from "./support/fixtures";
import { call, d1Row, pg, SECRETS, waitFor } from "./support/helpers";
import { op, prospectEvent, seedFailures, taskOfEvent } from "./support/operator";
import { queueBindings } from "../producers/publish";
import { testReplayStores } from "./support/replay-stores";
import { resumeStalledJobs, runJobTick, stalledJobs } from "../src/services/replay-jobs";
import { replayOneTask } from "../src/services/replay-task";

async function plan(filter: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return op("POST", "/v1/admin/replay-plans", { filter, ...extra });
}

async function job(id: string): Promise<Job> {
  return jobSchema.parse((await op("GET", `/v1/admin/replay-jobs/${id}`)).json.data.job);
}

/** Waits until the job finished and the consumers settled every task it sent. */
async function settled(id: string, timeoutMs = 60_000): Promise<Job> {
  // Polled gently: reading a big job's task counts competes for D1 with the job and the consumers.
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 500))) {
    const j = await job(id);
    if (j.status !== "running" && !j.tasks?.replaying) return j;
  }
  throw new Error(`job ${id} did not finish and settle in ${timeoutMs} ms: ${JSON.stringify(await job(id))}`);
}

/** The most events the job sent in any one-second window, from the times it recorded per task. */
async function busiestSecond(planId: string): Promise<number> {
  const { results } = await env.DB.prepare(
    "SELECT done_at FROM replay_plan_items WHERE plan_id = ?1 AND state = 'sent' ORDER BY done_at",
  )
    .bind(planId)
    .all<{ done_at: string }>();
  const times = results.map((r) => Date.parse(r.done_at));
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= 1000) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

/** Puts events in the D1 replica through the real consumer. */
async function applyToD1(events: SyncEvent[]) {
  for (let i = 0; i < events.length; i += 100) await deliver("to-d1", events.slice(i, i + 100));
}

describe("plan, then replay", () => {
  it("a plan freezes its selection and counts what is superseded; the job replays exactly that selection, once", async () => {
    const code = "PLAN_TEST";
    const fixable = Array.from({ length: 30 }, () => prospectEvent());
    const stale = Array.from({ length: 10 }, () => prospectEvent());
    await applyToD1(stale.map((e) => prospectEvent(e.key.id, 2, { name: "newer in D1" })));
    await seedFailures([...fixable, ...stale], { error_code: code });

    const created = await plan({ error_code: code }, { reason: "looking" });
    expect(created.status).toBe(201);
    const p = planSchema.parse(created.json.data.plan);
    expect(p).toMatchObject({
      queue: "to-d1",
      total: 40,
      superseded: 10,
      to_send: 30,
      skipped: 0,
      quarantined_excluded: 0,
      replaying_excluded: 0,
      by_entity: { prospects: 40 },
      by_error: { [code]: 40 },
      created_by: "alice@ops",
    });
    // Planning changed nothing.
    expect((await taskOfEvent(fixable[0]!.id))!.status).toBe("open");

    // Failures that arrive after the plan are not part of it.
    const late = Array.from({ length: 5 }, () => prospectEvent());
    await seedFailures(late, { error_code: code });

    expect((await op("POST", "/v1/admin/replay-jobs", { plan_id: p.id })).json.error.code).toBe("INVALID_REQUEST"); // reason required
    expect(
      (await op("POST", "/v1/admin/replay-jobs", { plan_id: p.id, reason: "D1 was down" }, null)).json.error.code,
    ).toBe("OPERATOR_REQUIRED");
    const started = await op("POST", "/v1/admin/replay-jobs", {
      plan_id: p.id,
      reason: "D1 was down 09:00-09:40",
      rate_per_second: 200,
    });
    expect(started.status).toBe(202);
    const j = await settled(started.json.data.job.id);
    expect(j).toMatchObject({
      status: "completed",
      total: 40,
      sent: 30,
      superseded: 10,
      skipped: 0,
      remaining: 0,
      created_by: "alice@ops",
      reason: "D1 was down 09:00-09:40",
    });
    expect(j.tasks).toEqual({ resolved: 30, superseded: 10 });

    for (const e of fixable.slice(0, 3)) expect(await d1Row("prospects", e.key.id)).toMatchObject({ version: 1 });
    for (const e of stale.slice(0, 3))
      expect(await d1Row("prospects", e.key.id)).toMatchObject({ version: 2, name: "newer in D1" });
    for (const e of late) expect((await taskOfEvent(e.id))!.status).toBe("open");
    // Status counts what still needs attention: the 5 late ones, not the resolved or superseded.
    const status = (await op("GET", "/v1/sync/status")).json.data;
    expect(status.entities.find((e: { entity: string }) => e.entity === "prospects").openFailedTasks).toBe(5);
    expect(status.replay).toEqual({ openFailureGroups: 1, runningJobs: [] });
    const byJob = (await op("GET", `/v1/admin/failed-tasks?job=${j.id}&limit=200`)).json.data.items;
    expect(byJob.map((t: { event_id: string }) => t.event_id).sort()).toEqual(fixable.map((e) => e.id).sort()); // what the job sent

    // Each sent task was sent once, marked with the job and its operator, and resolved by the consumer.
    const { results: history } = await env.DB.prepare(
      `SELECT kind, count(*) AS n, count(DISTINCT event_id) AS tasks FROM failed_task_history WHERE job_id = ?1 GROUP BY kind ORDER BY kind`,
    )
      .bind(j.id)
      .all();
    expect(history).toEqual([
      { kind: "replay", n: 30, tasks: 30 },
      { kind: "resolved", n: 30, tasks: 30 },
      { kind: "superseded", n: 10, tasks: 10 },
    ]);

    const again = await op("POST", "/v1/admin/replay-jobs", { plan_id: p.id, reason: "once more" });
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe("PLAN_ALREADY_EXECUTED");

    const audit = (await op("GET", "/v1/admin/audit?actor=alice@ops")).json.data.items.map((e: unknown) =>
      auditEntrySchema.parse(e),
    );
    const replay = audit.find(
      (e: { action: string; target_id: string }) => e.action === "replay" && e.target_id === j.id,
    );
    expect(replay).toMatchObject({
      actor: "alice@ops",
      reason: "D1 was down 09:00-09:40",
      selection: { plan_id: p.id, filter: { error_code: code }, total: 40 },
    });
    expect(audit.some((e: { action: string; target_id: string }) => e.action === "plan" && e.target_id === p.id)).toBe(
      true,
    );
  });

  it("refuses plans that are empty, span both queues, or select finished tasks", async () => {
    const none = await plan({ error_code: "NO_SUCH_CODE" });
    expect([none.status, none.json.error.code]).toEqual([422, "NOTHING_TO_REPLAY"]);
    await seedFailures([prospectEvent()], { error_code: "MIXED" });
    await seedFailures([{ ...prospectEvent(), entity: "emails" }], { error_code: "MIXED", queue: "to-supabase" });
    const items = () => env.DB.prepare("SELECT count(*) AS n FROM replay_plan_items").first<{ n: number }>();
    const before = (await items())!.n;
    const mixed = await plan({ error_code: "MIXED" });
    expect([mixed.status, mixed.json.error.code]).toEqual([422, "PLAN_SPANS_QUEUES"]);
    expect((await items())!.n).toBe(before); // a refused plan leaves no frozen selection behind
    expect((await plan({ error_code: "MIXED", queue: "to-d1" })).json.data.plan.total).toBe(1);
    expect((await plan({ status: "resolved" })).json.error.code).toBe("NOT_REPLAYABLE_STATUS");

    // A task still replaying has no outcome yet: left out (and said so) unless selected by status.
    const inFlight = prospectEvent();
    await seedFailures([inFlight], { error_code: "IN_FLIGHT" });
    await env.DB.prepare("UPDATE failed_tasks SET status = 'replaying' WHERE event_id = ?1").bind(inFlight.id).run();
    const left = await plan({ error_code: "IN_FLIGHT" });
    expect([left.json.error.code, left.json.error.details]).toEqual([
      "NOTHING_TO_REPLAY",
      { quarantined_excluded: 0, replaying_excluded: 1 },
    ]);
    expect((await plan({ error_code: "IN_FLIGHT", status: "replaying" })).json.data.plan).toMatchObject({
      total: 1,
      replaying_excluded: 0,
    });
  });

  it("a replay storm of 10,000 tasks is held to its rate and ends with every task resolved, superseded or quarantined", async () => {
    const code = "STORM";
    const rate = 1000;
    const fixable = Array.from({ length: 8_000 }, () => prospectEvent());
    const stale = Array.from({ length: 1_500 }, () => prospectEvent());
    const poison = Array.from({ length: 500 }, () => prospectEvent(undefined, 1, { stage: "promoted" }));
    await applyToD1(stale.map((e) => prospectEvent(e.key.id, 2)));
    await seedFailures([...fixable, ...stale, ...poison], { error_code: code });
    // The poison ones were replayed twice before: failing a third time quarantines them.
    await env.DB.prepare("UPDATE failed_tasks SET replay_count = 2 WHERE event_id IN (SELECT value FROM json_each(?1))")
      .bind(JSON.stringify(poison.map((e) => e.id)))
      .run();

    const p = planSchema.parse((await plan({ error_code: code })).json.data.plan);
    expect(p).toMatchObject({ total: 10_000, superseded: 1_500, to_send: 8_500 });
    const started = Date.now();
    const { job: created } = (
      await op("POST", "/v1/admin/replay-jobs", { plan_id: p.id, reason: "storm drill", rate_per_second: rate })
    ).json.data;
    const j = await settled(created.id, 240_000);
    const elapsed = Date.now() - started;

    expect(j).toMatchObject({ status: "completed", sent: 8_500, superseded: 1_500, skipped: 0, remaining: 0 });
    expect(j.tasks).toEqual({ resolved: 8_000, superseded: 1_500, quarantined: 500 });
    // Held to the rate: never more than one second's worth plus one chunk (rate / 10) in any second.
    expect(await busiestSecond(p.id)).toBeLessThanOrEqual(rate + rate / 10);
    expect(elapsed).toBeGreaterThanOrEqual(((8_500 - rate / 10) / rate) * 1000);
    // None sent twice by the job.
    const twice = await env.DB.prepare(
      "SELECT count(*) AS n FROM (SELECT event_id FROM failed_task_history WHERE job_id = ?1 AND kind = 'replay' GROUP BY event_id HAVING count(*) > 1)",
    )
      .bind(j.id)
      .first<{ n: number }>();
    expect(twice!.n).toBe(0);
    const audit = (await op("GET", `/v1/admin/audit?target=${j.id}`)).json.data.items;
    expect(audit).toEqual([expect.objectContaining({ action: "replay", actor: "alice@ops", reason: "storm drill" })]);
  }, 300_000);

  it("cancel stops a job mid-way: what was sent stays sent, the rest stays open; one running job per queue", async () => {
    await seedFailures(
      Array.from({ length: 300 }, () => prospectEvent()),
      { error_code: "SLOW" },
    );
    await seedFailures(
      Array.from({ length: 3 }, () => prospectEvent()),
      { error_code: "OTHER" },
    );
    const slow = planSchema.parse((await plan({ error_code: "SLOW" })).json.data.plan);
    const other = planSchema.parse((await plan({ error_code: "OTHER" })).json.data.plan);
    const { job: running } = (
      await op("POST", "/v1/admin/replay-jobs", { plan_id: slow.id, reason: "slowly", rate_per_second: 20 })
    ).json.data;

    const busy = await op("POST", "/v1/admin/replay-jobs", { plan_id: other.id, reason: "in parallel" });
    expect([busy.status, busy.json.error.code, busy.json.error.details.running_job_id]).toEqual([
      409,
      "JOB_ALREADY_RUNNING",
      running.id,
    ]);

    await waitFor(async () => (await job(running.id)).sent >= 20, "some tasks sent", 20_000);
    const cancelled = await op("POST", `/v1/admin/replay-jobs/${running.id}/cancel`, { reason: "wrong window" });
    expect(cancelled.json.data.job).toMatchObject({ status: "cancelled", cancelled_by: "alice@ops" });
    await new Promise((r) => setTimeout(r, 500)); // a chunk that was being committed may still land
    const after = await job(running.id);
    await new Promise((r) => setTimeout(r, 1500));
    const later = await job(running.id);
    expect(later.sent).toBe(after.sent);
    expect(after.sent).toBeLessThan(300);
    expect(after.remaining).toBe(300 - after.sent);
    const open = await env.DB.prepare(
      "SELECT count(*) AS n FROM failed_tasks WHERE error_code = 'SLOW' AND status = 'open'",
    ).first<{ n: number }>();
    expect(open!.n).toBe(300 - after.sent);
    expect((await op("POST", `/v1/admin/replay-jobs/${running.id}/cancel`, { reason: "again" })).json.error.code).toBe(
      "JOB_NOT_RUNNING",
    );
    // A refused cancel changed nothing, so the audit trail records nothing for it (found by the fuzzer).
    const cancels = await env.DB.prepare("SELECT reason FROM operator_audit WHERE action = 'cancel' AND target_id = ?1")
      .bind(running.id)
      .all<{ reason: string }>();
    expect(cancels.results.map((r) => r.reason)).toEqual(["wrong window"]);
    expect(
      (await op("POST", "/v1/admin/replay-jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV/cancel", { reason: "no such job" })).status,
    ).toBe(404);
    const ghost = await env.DB.prepare(
      "SELECT count(*) AS n FROM operator_audit WHERE target_id = '01ARZ3NDEKTSV4RRFFQ69G5FAV'",
    ).first<{ n: number }>();
    expect(ghost!.n).toBe(0);

    // The queue is free again.
    const next = await op("POST", "/v1/admin/replay-jobs", { plan_id: other.id, reason: "now" });
    expect(next.status).toBe(202);
    expect(await settled(next.json.data.job.id)).toMatchObject({ status: "completed", sent: 3 });
  }, 60_000);
});

describe("recovery", () => {
  it("a running job whose tick was lost is resumed by the every-minute cron", async () => {
    await seedFailures(
      Array.from({ length: 3 }, () => prospectEvent()),
      { error_code: "LOST_TICK" },
    );
    const p = planSchema.parse((await plan({ error_code: "LOST_TICK" })).json.data.plan);
    // As startJob writes it, minus the tick: the control message never arrived.
    const jobId = newEventId();
    const longAgo = new Date(Date.now() - 10 * 60_000).toISOString();
    await env.DB.prepare(
      `INSERT INTO replay_jobs (id, plan_id, queue, mode, override, status, rate_per_second, total, reason, created_by, created_at, started_at, last_tick_at)
       VALUES (?1, ?2, 'to-d1', 'original', 0, 'running', 50, 3, 'test', 'alice@ops', ?3, ?3, ?3)`,
    )
      .bind(jobId, p.id, longAgo)
      .run();
    expect(await stalledJobs(env.DB)).toEqual([jobId]);

    expect(await resumeStalledJobs(env.DB, env.CONTROL)).toEqual({ resumed: [jobId] }); // what the every-minute cron runs
    const j = await settled(jobId);
    expect(j).toMatchObject({ status: "completed", sent: 3, tasks: { resolved: 3 } });
    expect(await stalledJobs(env.DB)).toEqual([]);
  });
});

describe("a queue that refuses", () => {
  const refusing = {
    sendBatch: async () => {
      throw new Error("Queue sendBatch failed: 503");
    },
  } as unknown as Queue;

  it("reverts a job's chunk: nothing is recorded as sent that was not; the next tick sends it", async () => {
    await seedFailures(
      Array.from({ length: 4 }, () => prospectEvent()),
      { error_code: "REFUSED" },
    );
    const p = planSchema.parse((await plan({ error_code: "REFUSED" })).json.data.plan);
    const jobId = newEventId();
    const now = new Date().toISOString();
    await env.DB.prepare(
      `INSERT INTO replay_jobs (id, plan_id, queue, mode, override, status, rate_per_second, total, reason, created_by, created_at, started_at)
       VALUES (?1, ?2, 'to-d1', 'original', 0, 'running', 100, 4, 'test', 'alice@ops', ?3, ?3)`,
    )
      .bind(jobId, p.id, now)
      .run();
    const stores = testReplayStores();

    const refused = await runJobTick({ db: env.DB, queues: { "to-d1": refusing }, stores }, jobId, { budgetMs: 2000 });
    expect(refused).toMatchObject({ next: "retry" });
    expect(await job(jobId)).toMatchObject({ status: "running", sent: 0, remaining: 4, tasks: { open: 4 } });
    expect((await job(jobId)).last_error).toMatch(/refused/);
    const history = await env.DB.prepare(
      "SELECT count(*) AS n FROM failed_task_history WHERE kind = 'replay' AND job_id = ?1",
    )
      .bind(jobId)
      .first<{ n: number }>();
    expect(history!.n).toBe(0);
    expect(
      (await env.DB.prepare("SELECT max(replay_count) AS n FROM failed_tasks WHERE error_code = 'REFUSED'").first<{
        n: number;
      }>())!.n,
    ).toBe(0);

    expect(await runJobTick({ db: env.DB, queues: queueBindings(env), stores }, jobId, { budgetMs: 2000 })).toEqual({
      next: "done",
    });
    expect(await settled(jobId)).toMatchObject({ status: "completed", sent: 4, tasks: { resolved: 4 } });
  });

  it("a single replay answers 503 QUEUE_UNAVAILABLE and leaves the task as it was", async () => {
    const event = prospectEvent();
    await seedFailures([event], { error_code: "REFUSED_ONE" });
    const task = (await taskOfEvent(event.id))!;
    const deps = { db: env.DB, queues: { "to-d1": refusing }, stores: testReplayStores() };
    await expect(
      replayOneTask(deps, task.id, {
        mode: "original",
        override: false,
        actor: { name: "alice@ops", auth: "admin-token", tokenId: null },
        reason: "try",
      }),
    ).rejects.toMatchObject({ code: "QUEUE_UNAVAILABLE", retryable: true });
    expect(await taskOfEvent(event.id)).toMatchObject({ status: "open", replay_count: 0 });
    const audit = (await op("GET", `/v1/admin/audit?target=${task.id}`)).json.data.items;
    expect(audit.map((e: { result: { outcome: string } }) => e.result.outcome)).toEqual([
      "not sent: the queue refused it; nothing changed",
      "sent",
    ]);
  });
});

describe("guards", () => {
  it("a replay that arrives after newer data is superseded, never applied", async () => {
    const id = crypto.randomUUID();
    const old = prospectEvent(id, 1, { name: "old" });
    await seedFailures([old], { error_code: "RACE" });
    const task = (await taskOfEvent(old.id))!;
    // Sent while the replica was behind (status replaying), but the newer version lands first.
    await env.DB.prepare("UPDATE failed_tasks SET status = 'replaying', replay_count = 1 WHERE id = ?1")
      .bind(task.id)
      .run();
    await applyToD1([prospectEvent(id, 2, { name: "new" })]);
    await deliver("to-d1", [
      { ...old, replay: { task_id: task.id, replayed_at: new Date().toISOString(), mode: "original", by: "bob" } },
    ]);
    expect(await d1Row("prospects", id)).toMatchObject({ version: 2, name: "new" });
    expect(await taskOfEvent(old.id)).toMatchObject({ status: "superseded" });

    // And a single replay of a task the replica has already passed is resolved without sending.
    const older = prospectEvent(id, 1, { name: "older" });
    await seedFailures([older], { error_code: "RACE" });
    const res = await op("POST", `/v1/admin/failed-tasks/${(await taskOfEvent(older.id))!.id}/replay`, {
      reason: "check",
    });
    expect(res.json.data).toMatchObject({ outcome: "superseded", task: { status: "superseded", replay_count: 0 } });
    expect(await d1Row("prospects", id)).toMatchObject({ version: 2, name: "new" });
  });

  it("refresh mode re-reads the authoritative row (and its delete) instead of resending a stale event", async () => {
    const rows = await insertCrmRows();
    const id = String(rows.prospects.id);
    await applyToD1([prospectEvent(id, 1, { ...rows.prospects })]);
    const staleEvent = prospectEvent(id, 2, { ...rows.prospects, name: "stale image", version: 2 });
    await seedFailures([staleEvent], { error_code: "REFRESH" });
    await pg()`update prospects set name = 'Current name' where id = ${id}`;
    await pg()`update prospects set score = 99 where id = ${id}`; // version 3 at the source
    const task = (await taskOfEvent(staleEvent.id))!;

    const p = planSchema.parse((await plan({ error_code: "REFRESH" }, { mode: "refresh" })).json.data.plan);
    expect(p).toMatchObject({ mode: "refresh", to_send: 1, superseded: 0 });
    const sent = await op("POST", `/v1/admin/failed-tasks/${task.id}/replay`, {
      reason: "source moved on",
      mode: "refresh",
    });
    expect(sent.json.data.outcome).toBe("sent");
    const row = await waitFor(async () => {
      const r = await d1Row("prospects", id);
      return r?.version === 3 ? r : null;
    }, "refreshed row in D1");
    expect(row).toMatchObject({ name: "Current name", score: 99 });
    await waitFor(async () => (await taskOfEvent(staleEvent.id))?.status === "resolved", "task resolved");

    // Deleted at the source: refresh publishes the delete at the source's tombstone version.
    const gone = prospectEvent(id, 3, { name: "about to go" });
    await seedFailures([gone], { error_code: "REFRESH_DELETE" });
    await pg()`delete from inbox_items where prospect_id = ${id}`;
    await pg()`delete from prospects where id = ${id}`;
    const deleted = await op("POST", `/v1/admin/failed-tasks/${(await taskOfEvent(gone.id))!.id}/replay`, {
      reason: "row deleted",
      mode: "refresh",
    });
    expect(deleted.json.data.outcome).toBe("sent");
    await waitFor(async () => (await d1Row("prospects", id)) === null, "row deleted from D1");
  });

  it("refresh of an email re-reads D1 (the email's authority) and the stale twin is planned as superseded", async () => {
    const prospectId = crypto.randomUUID(); // not in Postgres yet: every email event fails on the foreign key
    const email = {
      prospect_id: prospectId,
      to_email: "gm@bellevue.test",
      from_email: "sales@crm.test",
      subject: "Hi",
      body: "…",
      status: "sent",
      sent_at: new Date().toISOString(),
    };
    const sent = await call("POST", "/v1/emails", { token: SECRETS.api, body: email });
    const id = sent.json.data.email.id as string;
    await call("PATCH", `/v1/emails/${id}`, { token: SECRETS.api, body: { status: "delivered", expectedVersion: 1 } });
    const tasks = await waitFor(
      async () => {
        const { results } = await env.DB.prepare("SELECT id, event FROM failed_tasks WHERE row_id = ?1 ORDER BY id")
          .bind(id)
          .all<{ id: string; event: string }>();
        return results.length === 2
          ? results.map((r) => ({ id: r.id, version: JSON.parse(r.event).version as number }))
          : null;
      },
      "both email events dead-lettered",
      20_000,
    );
    const v1 = tasks.find((t) => t.version === 1)!;
    const v2 = tasks.find((t) => t.version === 2)!;

    await pg()`insert into prospects (id, name) values (${prospectId}, 'Arrived late')`;
    const refreshed = await op("POST", `/v1/admin/failed-tasks/${v1.id}/replay`, {
      reason: "prospect restored",
      mode: "refresh",
    });
    expect(refreshed.json.data.outcome).toBe("sent");
    const row = await waitFor(
      async () => (await pg()`select status, version::int as version from emails where id = ${id}`)[0],
      "email in Postgres",
    );
    expect(row).toEqual({ status: "delivered", version: 2 }); // D1's current row, not the stale v1 image

    // The v2 event's own task is now superseded in Supabase's replica: the plan says so, the job sends nothing.
    const p = planSchema.parse((await plan({ ids: [v2.id] })).json.data.plan);
    expect(p).toMatchObject({ queue: "to-supabase", total: 1, superseded: 1, to_send: 0 });
  });

  it("a task that fails again after the set number of replays is quarantined and needs an override", async () => {
    const poison = prospectEvent(undefined, 1, { stage: "promoted" });
    await seedFailures([poison], { error_code: "SCHEMA_VIOLATION" });
    const id = (await taskOfEvent(poison.id))!.id;
    for (let i = 1; i <= 3; i++) {
      expect((await op("POST", `/v1/admin/failed-tasks/${id}/replay`, { reason: `attempt ${i}` })).status).toBe(202);
      await waitFor(
        async () => (await taskOfEvent(poison.id))!.failure_count === i + 1,
        `failure ${i + 1} recorded`,
        15_000,
      );
    }
    expect(await taskOfEvent(poison.id)).toMatchObject({ status: "quarantined", replay_count: 3 });
    const detail = (await op("GET", `/v1/admin/failed-tasks/${id}`)).json.data;
    expect(detail.history.at(-1).kind).toBe("quarantined");

    const refused = await op("POST", `/v1/admin/failed-tasks/${id}/replay`, { reason: "once more" });
    expect([refused.status, refused.json.error.code]).toEqual([409, "QUARANTINED"]);
    const excluded = await plan({ ids: [id] });
    expect([excluded.json.error.code, excluded.json.error.details]).toEqual([
      "NOTHING_TO_REPLAY",
      { quarantined_excluded: 1, replaying_excluded: 0 },
    ]);
    expect((await plan({ ids: [id] }, { override: true })).json.data.plan).toMatchObject({ total: 1, override: true });

    const forced = await op("POST", `/v1/admin/failed-tasks/${id}/replay`, {
      reason: "stage list fixed in the registry",
      override: true,
    });
    expect(forced.status).toBe(202);
    const audit = (await op("GET", `/v1/admin/audit?target=${id}`)).json.data.items;
    expect(audit[0]).toMatchObject({
      action: "override",
      actor: "alice@ops",
      reason: "stage list fixed in the registry",
    });
  }, 60_000);
});
