import type { JobTick, TickOutcome } from "../../consumers/control-queue";
import { newEventId } from "../../schemas/event";
import type { Job, JobStatus, TaskStatus } from "../../schemas/operator-api";
import { ConflictError, NotFoundError } from "../../core/errors";
import { d1UniqueViolation } from "../../core/stores/d1-errors";
import { utcNow } from "../../core/utc";
import { auditStatement, type Actor } from "./audit";
import { commitAndSend } from "./replay-commit";
import { decideReplays, type Decision, type ReplayStores } from "./replay-decide";
import { assertExecutable, getPlan, pendingTasks } from "./replay-plans";

/** A control-queue message: "work on this job for a while". */

/** How long one tick works before handing over to the next (a fresh invocation). */
export const TICK_BUDGET_MS = 20_000;
/** A runner holds the job this long past its budget; after that another may take over (it crashed). */
const LEASE_SLACK_MS = 60_000;

export interface JobDeps {
  db: D1Database;
  queues: Record<string, Queue>;
  stores: ReplayStores;
}

/**
 * Executes a plan: creates the job (one running job per work queue, enforced by a unique index)
 * with its audit line in one transaction, then hands it to the control queue, whose consumer
 * sends the plan's tasks at the job's rate (runJobTick).
 */
export async function startJob(
  deps: { db: D1Database; control: Queue },
  req: { plan_id: string; reason: string; rate_per_second: number },
  actor: Actor,
): Promise<Job> {
  const plan = await getPlan(deps.db, req.plan_id);
  assertExecutable(plan);
  const id = newEventId();
  const now = utcNow();
  try {
    await deps.db.batch([
      deps.db
        .prepare(
          `INSERT INTO replay_jobs (id, plan_id, queue, mode, override, status, rate_per_second, total, reason, created_by, created_at, started_at)
           VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6, ?7, ?8, ?9, ?10, ?10)`,
        )
        .bind(
          id,
          plan.id,
          plan.queue,
          plan.mode,
          plan.override ? 1 : 0,
          req.rate_per_second,
          plan.total,
          req.reason,
          actor.name,
          now,
        ),
      deps.db.prepare("UPDATE replay_plans SET job_id = ?2 WHERE id = ?1").bind(plan.id, id),
      auditStatement(deps.db, {
        actor,
        action: "replay",
        reason: req.reason,
        target_type: "job",
        target_id: id,
        selection: {
          plan_id: plan.id,
          filter: plan.filter,
          mode: plan.mode,
          override: plan.override,
          total: plan.total,
          by_entity: plan.by_entity,
          by_error: plan.by_error,
        },
        result: {
          rate_per_second: req.rate_per_second,
          planned_to_send: plan.to_send,
          planned_superseded: plan.superseded,
        },
      }),
    ]);
  } catch (error) {
    // D1 errors carry no code: which UNIQUE constraint broke is read from the message (d1-errors.ts).
    const unique = d1UniqueViolation(error);
    if (unique?.includes("replay_jobs.plan_id"))
      throw new ConflictError("PLAN_ALREADY_EXECUTED", `plan ${plan.id} is already being executed`);
    if (unique) {
      const running = await deps.db
        .prepare("SELECT id FROM replay_jobs WHERE queue = ?1 AND status = 'running'")
        .bind(plan.queue)
        .first<{ id: string }>();
      throw new ConflictError(
        "JOB_ALREADY_RUNNING",
        `job ${running?.id ?? "?"} is replaying ${plan.queue}; wait for it or cancel it (one job per queue)`,
        { running_job_id: running?.id },
      );
    }
    throw error;
  }
  await kick(deps.control, id);
  return getJob(deps.db, id);
}

/** Best effort: if the control queue refuses, the every-minute cron resumes the job. */
export async function kick(control: Queue, jobId: string, delaySeconds = 0): Promise<void> {
  try {
    await control.send({ kind: "replay-job", job_id: jobId } satisfies JobTick, { contentType: "json", delaySeconds });
  } catch (error) {
    console.error(
      JSON.stringify({
        msg: "replay job tick not queued; the cron will resume it",
        job_id: jobId,
        error: String(error),
      }),
    );
  }
}

export async function getJob(db: D1Database, id: string): Promise<Job> {
  const [job, tasks] = await db.batch<Record<string, unknown>>([
    db.prepare("SELECT * FROM replay_jobs WHERE id = ?1").bind(id),
    db
      .prepare(
        `SELECT t.status, count(*) AS n FROM replay_jobs j JOIN replay_plan_items i ON i.plan_id = j.plan_id
           JOIN failed_tasks t ON t.id = i.task_id WHERE j.id = ?1 GROUP BY t.status`,
      )
      .bind(id),
  ]);
  const row = job!.results[0];
  if (!row) throw new NotFoundError(`replay job ${id} does not exist`);
  return { ...toJob(row), tasks: Object.fromEntries(tasks!.results.map((r) => [r.status as TaskStatus, Number(r.n)])) };
}

export async function listJobs(db: D1Database, q: { status?: JobStatus; limit: number }): Promise<Job[]> {
  const { results } = await db
    .prepare("SELECT * FROM replay_jobs WHERE (?1 IS NULL OR status = ?1) ORDER BY id DESC LIMIT ?2")
    .bind(q.status ?? null, q.limit)
    .all<Record<string, unknown>>();
  return results.map(toJob);
}

/**
 * Stops a running job. What was already sent stays sent (it is applied or superseded by the
 * consumers as usual); the rest of the plan stays pending. A chunk the runner was committing at
 * that moment (at most a tenth of a second of sending) may still go out.
 */
export async function cancelJob(db: D1Database, id: string, by: { actor: Actor; reason: string }): Promise<Job> {
  const now = utcNow();
  const [update] = await db.batch([
    db
      .prepare(
        "UPDATE replay_jobs SET status = 'cancelled', finished_at = ?2, cancelled_by = ?3, lease_until = NULL WHERE id = ?1 AND status = 'running'",
      )
      .bind(id, now, by.actor.name),
    // Audited only when the job was running: a refused cancel changes nothing, so records nothing.
    auditStatement(
      db,
      { actor: by.actor, action: "cancel", reason: by.reason, target_type: "job", target_id: id },
      { ifPreviousChanged: true },
    ),
  ]);
  if (!update!.meta.changes) {
    const job = await getJob(db, id);
    throw new ConflictError(
      "JOB_NOT_RUNNING",
      `replay job ${id} is ${job.status}; only a running job can be cancelled`,
    );
  }
  return getJob(db, id);
}

/** `retry`: the queue refused; try again after a pause. */
export type TickResult = TickOutcome;

/**
 * Works on a job for up to `budgetMs`: takes the lease (so two ticks never run one job at once),
 * then sends the plan's pending tasks in chunks of a tenth of a second's worth, each chunk
 * starting no earlier than the previous one's events allow at rate_per_second. Cancelling is
 * noticed at the next chunk.
 */
export async function runJobTick(
  deps: JobDeps,
  jobId: string,
  opts: { budgetMs?: number; sleep?: (ms: number) => Promise<void> } = {},
): Promise<TickResult> {
  const { db } = deps;
  const budget = opts.budgetMs ?? TICK_BUDGET_MS;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = Date.now();
  const leased = await db
    .prepare(
      `UPDATE replay_jobs SET lease_until = ?2, last_tick_at = ?3
        WHERE id = ?1 AND status = 'running' AND (lease_until IS NULL OR lease_until < ?3) RETURNING *`,
    )
    .bind(jobId, new Date(started + budget + LEASE_SLACK_MS).toISOString(), new Date(started).toISOString())
    .first<Record<string, unknown>>();
  if (!leased) return { next: "busy" };
  const job = toJob(leased);
  // Chunks of a tenth of a second's worth: bursts stay small and cancel is noticed quickly.
  const chunk = Math.max(1, Math.min(100, Math.floor(job.rate_per_second / 10)));
  let sent = 0;
  // Chunks are spaced by what the previous one sent (no catching up after a slow chunk, also
  // across ticks), so any one-second window holds at most rate + one chunk of events.
  let nextChunkAt = Math.max(started, leased.next_send_at ? Date.parse(String(leased.next_send_at)) : 0);
  let result: TickResult = { next: "continue" };
  // A plan holds replaying tasks only when it selected them (status replaying: stuck ones). In any
  // other plan a task that is replaying now was sent since by someone else (a single replay):
  // sending it again would be a duplicate, so it is skipped (ALREADY_REPLAYING).
  const plan = await db
    .prepare("SELECT json_extract(filter, '$.status') AS status FROM replay_plans WHERE id = ?1")
    .bind(job.plan_id)
    .first<{ status: string | null }>();
  const allowReplaying = plan?.status === "replaying";
  try {
    while (Date.now() - started < budget) {
      if (nextChunkAt > Date.now()) await sleep(nextChunkAt - Date.now());
      const chunkStarted = Date.now();
      const [status, tasks] = await Promise.all([
        db.prepare("SELECT status FROM replay_jobs WHERE id = ?1").bind(jobId).first<{ status: JobStatus }>(),
        pendingTasks(db, job.plan_id, chunk),
      ]);
      if (status?.status !== "running") return (result = { next: "done" });
      if (!tasks.length) {
        await db
          .prepare("UPDATE replay_jobs SET status = 'completed', finished_at = ?2 WHERE id = ?1 AND status = 'running'")
          .bind(jobId, utcNow())
          .run();
        return (result = { next: "done" });
      }
      const now = utcNow();
      const options = { mode: job.mode, override: job.override, allowReplaying, actor: job.created_by, jobId, now };
      const decisions = await decideReplays(deps.stores, tasks, options);
      const seqOf = new Map(tasks.map((t) => [t.id, t.seq]));
      const chunkResult = await commitAndSend({ db, queue: deps.queues[job.queue]! }, decisions, options, {
        commit: (claimed) => [
          ...itemStatements(db, job.plan_id, claimed, seqOf, now),
          countersStatement(db, jobId, claimed, 1),
        ],
        revert: (unsent) => [
          db
            .prepare(
              "UPDATE replay_plan_items SET state = 'pending', done_at = NULL WHERE plan_id = ?1 AND seq IN (SELECT value FROM json_each(?2))",
            )
            .bind(job.plan_id, JSON.stringify(unsent.map((d) => seqOf.get(d.task.id)))),
          countersStatement(db, jobId, unsent, -1),
        ],
      });
      if (chunkResult.error) {
        await db.prepare("UPDATE replay_jobs SET last_error = ?2 WHERE id = ?1").bind(jobId, chunkResult.error).run();
        return (result = { next: "retry", error: chunkResult.error });
      }
      sent += chunkResult.sent.length;
      nextChunkAt = chunkStarted + (chunkResult.sent.length / job.rate_per_second) * 1000;
    }
    return result;
  } finally {
    await db
      .prepare("UPDATE replay_jobs SET lease_until = NULL, next_send_at = ?2 WHERE id = ?1")
      .bind(jobId, new Date(nextChunkAt).toISOString())
      .run();
    console.log(JSON.stringify({ msg: "replay job tick", job_id: jobId, sent, next: result.next }));
  }
}

/**
 * What the job did with each task of the chunk: one statement per outcome, each a primary-key
 * lookup per item (an UPDATE … FROM json_each would scan every item of the plan per chunk).
 */
function itemStatements(
  db: D1Database,
  planId: string,
  decisions: Decision[],
  seqOf: Map<string, number>,
  now: string,
): D1PreparedStatement[] {
  const of = (outcome: Decision["outcome"]) => decisions.filter((d) => d.outcome === outcome);
  const sent = of("send").map((d) => seqOf.get(d.task.id));
  const rest = [...of("superseded"), ...of("skipped")].map((d) => ({
    seq: seqOf.get(d.task.id),
    state: d.outcome,
    detail: "detail" in d ? d.detail : null,
  }));
  return [
    db
      .prepare(
        "UPDATE replay_plan_items SET state = 'sent', done_at = ?3 WHERE plan_id = ?1 AND seq IN (SELECT value FROM json_each(?2))",
      )
      .bind(planId, JSON.stringify(sent), now),
    db
      .prepare(
        `UPDATE replay_plan_items
            SET state = (SELECT json_extract(j.value, '$.state') FROM json_each(?2) j WHERE json_extract(j.value, '$.seq') = replay_plan_items.seq),
                detail = (SELECT json_extract(j.value, '$.detail') FROM json_each(?2) j WHERE json_extract(j.value, '$.seq') = replay_plan_items.seq),
                done_at = ?3
          WHERE plan_id = ?1 AND seq IN (SELECT json_extract(value, '$.seq') FROM json_each(?2))`,
      )
      .bind(planId, JSON.stringify(rest), now),
  ];
}

function countersStatement(db: D1Database, jobId: string, decisions: Decision[], sign: 1 | -1): D1PreparedStatement {
  const n = (o: Decision["outcome"]) => sign * decisions.filter((d) => d.outcome === o).length;
  return db
    .prepare(
      "UPDATE replay_jobs SET sent = sent + ?2, superseded = superseded + ?3, skipped = skipped + ?4, last_error = NULL WHERE id = ?1",
    )
    .bind(jobId, n("send"), n("superseded"), n("skipped"));
}

/** Every minute (cron): kicks running jobs nobody is working on (a lost tick message, a crashed runner). */
export async function resumeStalledJobs(db: D1Database, control: Queue): Promise<{ resumed: string[] }> {
  const stalled = await stalledJobs(db);
  for (const id of stalled) await kick(control, id);
  return { resumed: stalled };
}

export async function stalledJobs(db: D1Database, now = Date.now()): Promise<string[]> {
  const { results } = await db
    .prepare(
      `SELECT id FROM replay_jobs WHERE status = 'running' AND (lease_until IS NULL OR lease_until < ?1)
          AND (last_tick_at IS NULL OR last_tick_at < ?2)`,
    )
    .bind(new Date(now).toISOString(), new Date(now - 2 * 60_000).toISOString())
    .all<{ id: string }>();
  return results.map((r) => r.id);
}

function toJob(row: Record<string, unknown>): Job {
  const { lease_until: _lease, last_tick_at: _tick, next_send_at: _next, ...rest } = row;
  const total = Number(row.total);
  const done = Number(row.sent) + Number(row.superseded) + Number(row.skipped);
  return { ...(rest as unknown as Job), override: row.override === 1, remaining: total - done };
}
