import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { jobSchema } from "../schemas/operator-api";
import { queueBindings } from "../producers/publish";
import { testReplayStores } from "./support/replay-stores";
import { replayOneTask } from "../src/services/replay-task";
import { commitAndSend } from "../src/services/replay-commit";
import { decideReplays, type Decision, type ReplayableTask } from "../src/services/replay-decide";
import { pruneExpired, RETENTION_DAYS } from "../src/services/retention";
import { postgresRpc } from "../core/stores/supabase-postgres";
import { deleteEvent, deliver, upsertEvent } from "./support/fixtures";
import { d1Row, pg, pgRow, waitFor } from "./support/helpers";
import { op, prospectEvent, seedFailures, taskOfEvent } from "./support/operator";

const DAY = 86_400_000;

/**
 * A prospect committed in Postgres whose upsert failed long ago (its image is older than the
 * replica's tombstone retention) and is still an open failed task.
 */
async function oldFailedUpsert(name: string) {
  const id = crypto.randomUUID();
  await pg()`insert into prospects (id, name) values (${id}, ${name})`;
  const longAgo = new Date(Date.now() - (RETENTION_DAYS + 5) * DAY).toISOString();
  const event = upsertEvent(
    "prospects",
    { ...(await pgRow("prospects", id)), created_at: longAgo, updated_at: longAgo },
    { occurred_at: longAgo },
  );
  await seedFailures([event], { error_code: "RETRIES_EXHAUSTED" });
  return { id, event, task: (await taskOfEvent(event.id))! };
}

/** Deletes the row at the source, applies the delete to D1, then lets retention prune D1's tombstone. */
async function deleteAndPruneTombstone(id: string) {
  await pg()`delete from prospects where id = ${id}`;
  await deliver("to-d1", [deleteEvent("prospects", id, 2)]);
  expect(
    await env.DB.prepare("SELECT version FROM sync_tombstones WHERE entity = 'prospects' AND id = ?1").bind(id).first(),
  ).toEqual({ version: 2 });
  const expired = new Date(Date.now() - (RETENTION_DAYS + 1) * DAY).toISOString();
  await env.DB.prepare("UPDATE sync_tombstones SET deleted_at = ?2 WHERE entity = 'prospects' AND id = ?1")
    .bind(id, expired)
    .run();
  await pruneExpired({ db: env.DB, rpc: postgresRpc(pg()) });
  expect(
    await env.DB.prepare("SELECT 1 FROM sync_tombstones WHERE entity = 'prospects' AND id = ?1").bind(id).first(),
  ).toBeNull();
}

describe("item 8: replaying an old failed upsert never resurrects a row deleted after it", () => {
  it("tombstone pruned, the source remembers the delete: the replay is superseded and nothing is sent", async () => {
    const { id, event, task } = await oldFailedUpsert("Deleted later");
    await deleteAndPruneTombstone(id);

    const res = await op("POST", `/v1/admin/failed-tasks/${task.id}/replay`, { reason: "cause fixed" });
    expect(res.status).toBe(202);
    expect(res.json.data).toMatchObject({ outcome: "superseded", task: { status: "superseded", replay_count: 0 } });
    const detail = (await op("GET", `/v1/admin/failed-tasks/${task.id}`)).json.data;
    expect(detail.history.at(-1)).toMatchObject({
      kind: "superseded",
      error_message: `the source (supabase) deleted row ${id} at version 2`,
    });
    // The replica still has no such row (a send would have applied by now: the queue is live).
    await new Promise((r) => setTimeout(r, 1500));
    expect(await d1Row("prospects", id)).toBeNull();
    expect((await taskOfEvent(event.id))!.status).toBe("superseded");
  });

  it("tombstone pruned and the source forgot the delete too: refused with 410 TASK_EXPIRED; a plan skips it; refresh is the way out", async () => {
    const { id, event, task } = await oldFailedUpsert("Deleted and forgotten");
    await deleteAndPruneTombstone(id);
    await pg()`delete from sync.source_tombstones where entity = 'prospects' and id = ${id}`;

    const res = await op("POST", `/v1/admin/failed-tasks/${task.id}/replay`, { reason: "cause fixed" });
    expect(res.status).toBe(410);
    expect(res.json.error).toMatchObject({ code: "TASK_EXPIRED", retryable: false });
    expect(res.json.error.message).toMatch(/replay with mode refresh/i);
    expect(await taskOfEvent(event.id)).toMatchObject({ status: "open", replay_count: 0 });

    const plan = await op("POST", "/v1/admin/replay-plans", { filter: { ids: [task.id] } });
    expect(plan.json.data.plan).toMatchObject({ total: 1, to_send: 0, superseded: 0, skipped: 1 });
    const refresh = await op("POST", `/v1/admin/failed-tasks/${task.id}/replay`, {
      reason: "cause fixed",
      mode: "refresh",
    });
    expect([refresh.status, refresh.json.error.code]).toEqual([422, "NOT_REPLAYABLE"]);

    await new Promise((r) => setTimeout(r, 1500));
    expect(await d1Row("prospects", id)).toBeNull();
  });

  it("an old image whose row still exists at the source (it never reached the replica) is still sent and applied", async () => {
    const { id, event, task } = await oldFailedUpsert("Never arrived");
    const res = await op("POST", `/v1/admin/failed-tasks/${task.id}/replay`, { reason: "cause fixed" });
    expect(res.json.data).toMatchObject({ outcome: "sent" });
    await waitFor(async () => (await d1Row("prospects", id))?.version === 1, "row in D1");
    await waitFor(async () => (await taskOfEvent(event.id))?.status === "resolved", "task resolved");
  });
});

describe("a single replay of a task that is still replaying", () => {
  it("is refused with 409 ALREADY_REPLAYING (nothing sent, nothing recorded); with override it is sent and audited as an override", async () => {
    const event = prospectEvent();
    await seedFailures([event], { error_code: "REPLAYING_GUARD" });
    const task = (await taskOfEvent(event.id))!;
    const first = await op("POST", `/v1/admin/failed-tasks/${task.id}/replay`, { reason: "first" });
    expect(first.json.data).toMatchObject({ outcome: "sent", task: { status: "replaying", replay_count: 1 } });
    // Hold it in "replaying" as if its outcome were not known yet (the consumer may settle it meanwhile).
    await env.DB.prepare("UPDATE failed_tasks SET status = 'replaying' WHERE id = ?1").bind(task.id).run();

    const again = await op("POST", `/v1/admin/failed-tasks/${task.id}/replay`, { reason: "impatient" });
    expect(again.status).toBe(409);
    expect(again.json.error).toMatchObject({ code: "ALREADY_REPLAYING", retryable: false });
    const after = (await taskOfEvent(event.id))!;
    expect(after.replay_count).toBe(1);
    const history = (await op("GET", `/v1/admin/failed-tasks/${task.id}`)).json.data.history;
    expect(history.filter((h: { kind: string }) => h.kind === "replay")).toHaveLength(1);
    const audit = (await op("GET", `/v1/admin/audit?target=${task.id}`)).json.data.items;
    expect(audit.map((a: { reason: string }) => a.reason)).toEqual(["first"]);

    const forced = await op("POST", `/v1/admin/failed-tasks/${task.id}/replay`, {
      reason: "stuck: the runner died",
      override: true,
    });
    expect(forced.status).toBe(202);
    expect(forced.json.data).toMatchObject({ outcome: "sent", task: { replay_count: 2 } });
    const audit2 = (await op("GET", `/v1/admin/audit?target=${task.id}`)).json.data.items;
    expect(audit2[0]).toMatchObject({ action: "override", reason: "stuck: the runner died" });
  });

  it.each([
    { race: "two replays of an open task", stuck: false, replaysBefore: 0 },
    { race: "two overrides of a stuck replaying task", stuck: true, replaysBefore: 1 },
  ])(
    "$race racing: exactly one is sent, the other is refused with ALREADY_REPLAYING",
    async ({ stuck, replaysBefore }) => {
      const event = prospectEvent();
      await seedFailures([event], { error_code: "REPLAY_RACE" });
      const task = (await taskOfEvent(event.id))!;
      if (stuck)
        await env.DB.prepare("UPDATE failed_tasks SET status = 'replaying', replay_count = 1 WHERE id = ?1")
          .bind(task.id)
          .run(); // sent once, its outcome never known
      const deps = { db: env.DB, queues: queueBindings(env), stores: testReplayStores() };
      const req = (name: string) => ({
        mode: "original" as const,
        override: stuck,
        actor: { name, auth: "admin-token" as const, tokenId: null },
        reason: "race",
      });
      const results = await Promise.allSettled([
        replayOneTask(deps, task.id, req("alice")),
        replayOneTask(deps, task.id, req("bob")),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
      const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect(refused.reason).toMatchObject({ code: "ALREADY_REPLAYING" });
      expect((await taskOfEvent(event.id))!.replay_count).toBe(replaysBefore + 1);
      const history = (await op("GET", `/v1/admin/failed-tasks/${task.id}`)).json.data.history;
      expect(history.filter((h: { kind: string }) => h.kind === "replay")).toHaveLength(1);
      expect((await op("GET", `/v1/admin/audit?target=${task.id}`)).json.data.items).toHaveLength(1);
    },
  );

  it("a job's chunk decided before a single replay claimed its task: the job records it skipped and sends nothing", async () => {
    const event = prospectEvent();
    await seedFailures([event], { error_code: "JOB_SINGLE_RACE" });
    const row = (await taskOfEvent(event.id))!;
    const read = { ...row, event: JSON.parse(row.event) } as ReplayableTask; // as the job's chunk read it: open, 0 replays
    const deps = { db: env.DB, queues: queueBindings(env), stores: testReplayStores() };
    const opts = {
      mode: "original" as const,
      override: false,
      allowReplaying: false,
      actor: "job",
      jobId: null,
      now: new Date().toISOString(),
    };
    const decisions = await decideReplays(deps.stores, [read], opts);
    expect(decisions).toMatchObject([{ outcome: "send" }]);
    // Between the job's read and its commit, a single replay claims and sends the task.
    const single = await replayOneTask(deps, read.id, {
      mode: "original",
      override: false,
      actor: { name: "alice", auth: "admin-token", tokenId: null },
      reason: "now",
    });
    expect(single.outcome).toBe("sent");
    let committed: Decision[] = [];
    const result = await commitAndSend({ db: env.DB, queue: env.TO_D1 }, decisions, opts, {
      commit: (claimed) => ((committed = claimed), []),
      revert: () => [],
    });
    expect(result.sent).toEqual([]);
    expect(result.skipped).toMatchObject([{ outcome: "skipped", code: "ALREADY_REPLAYING" }]);
    expect(committed).toMatchObject([{ outcome: "skipped", code: "ALREADY_REPLAYING" }]);
    expect((await taskOfEvent(event.id))!.replay_count).toBe(1);
    const history = (await op("GET", `/v1/admin/failed-tasks/${read.id}`)).json.data.history;
    expect(history.filter((h: { kind: string }) => h.kind === "replay")).toHaveLength(1);
  });

  it("a job skips a task that a single replay sent after the plan was made (no duplicate send)", async () => {
    const event = prospectEvent();
    await seedFailures([event], { error_code: "JOB_AFTER_SINGLE" });
    const task = (await taskOfEvent(event.id))!;
    const plan = (await op("POST", "/v1/admin/replay-plans", { filter: { ids: [task.id] } })).json.data.plan;
    expect(plan).toMatchObject({ total: 1, to_send: 1 });
    expect(
      (await op("POST", `/v1/admin/failed-tasks/${task.id}/replay`, { reason: "one now" })).json.data.outcome,
    ).toBe("sent");
    await env.DB.prepare("UPDATE failed_tasks SET status = 'replaying' WHERE id = ?1").bind(task.id).run(); // outcome not known yet

    const started = await op("POST", "/v1/admin/replay-jobs", {
      plan_id: plan.id,
      reason: "the rest",
      rate_per_second: 100,
    });
    expect(started.status).toBe(202);
    const job = await waitFor(
      async () => {
        const j = jobSchema.parse((await op("GET", `/v1/admin/replay-jobs/${started.json.data.job.id}`)).json.data.job);
        return j.status === "running" ? null : j;
      },
      "job finished",
      20_000,
    );
    expect(job).toMatchObject({ status: "completed", sent: 0, skipped: 1 });
    expect((await taskOfEvent(event.id))!.replay_count).toBe(1);
  });
});
