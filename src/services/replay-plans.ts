import { newEventId } from "../../schemas/event";
import type { CreatePlanBody, Plan } from "../../schemas/operator-api";
import { ConflictError, NotFoundError, ValidationError } from "../../core/errors";
import { utcNow } from "../../core/utc";
import { auditStatement, type Actor } from "./audit";
import { decideReplays, type ReplayableTask, type ReplayStores } from "./replay-decide";
import { taskFilterSql } from "./task-filter-sql";

/** A plan is a snapshot: after a day its counts say little about the present, so it expires. */
const PLAN_TTL_MS = 24 * 3600 * 1000;
/** Larger selections must be narrowed (e.g. by time range) into several plans. */
export const MAX_PLAN_TASKS = 100_000;
/** Tasks read per step when a plan or a job walks its selection. */
const PAGE = 500;

/**
 * The dry run: freezes the tasks a filter selects now into a plan and says what replaying them
 * would do (how many would be sent, how many are superseded already, what the filter matched
 * but left out). Changes no task. Executing the plan (a replay job) replays exactly these tasks.
 */
export async function createPlan(
  deps: { db: D1Database; stores: ReplayStores },
  body: CreatePlanBody,
  actor: Actor,
): Promise<Plan> {
  const { db } = deps;
  const { status, ...rest } = body.filter;
  if (status === "resolved" || status === "superseded") {
    throw new ValidationError(
      "NOT_REPLAYABLE_STATUS",
      `tasks that are ${status} are done; replay selects open, replaying or quarantined tasks`,
      undefined,
      422,
    );
  }
  // Quarantined tasks failed again after several replays: only an explicit override includes them.
  // Tasks still replaying are in flight (their outcome is not known yet): only selected by name.
  const statuses = status
    ? status === "quarantined" && !body.override
      ? []
      : [status]
    : body.override
      ? ["open", "quarantined"]
      : ["open"];
  const where = taskFilterSql(rest, 1);
  const matching = (list: string[]) =>
    db
      .prepare(
        `SELECT count(*) AS n FROM failed_tasks WHERE ${where.sql} AND status IN (SELECT value FROM json_each(?1))`,
      )
      .bind(JSON.stringify(list), ...where.args);
  const id = newEventId();
  const now = utcNow();
  const statusList = JSON.stringify(statuses);
  // Refusals are decided on counts before anything is written, so a refused plan writes nothing.
  const [byQueue, quarantined, replaying] = await db.batch<{ queue?: string; n: number }>([
    db
      .prepare(
        `SELECT queue, count(*) AS n FROM failed_tasks WHERE ${where.sql} AND status IN (SELECT value FROM json_each(?1)) GROUP BY queue`,
      )
      .bind(statusList, ...where.args),
    matching(!body.override && (!status || status === "quarantined") ? ["quarantined"] : []),
    matching(status ? [] : ["replaying"]),
  ]);
  const quarantinedExcluded = quarantined!.results[0]?.n ?? 0;
  const replayingExcluded = replaying!.results[0]?.n ?? 0;
  const nothing = () =>
    new ValidationError(
      "NOTHING_TO_REPLAY",
      `no ${statuses.join(" or ") || "replayable"} task matches the filter${quarantinedExcluded ? ` (${quarantinedExcluded} quarantined left out: set override to include them)` : ""}` +
        `${replayingExcluded ? ` (${replayingExcluded} still replaying: wait for them, or select status replaying)` : ""}`,
      { quarantined_excluded: quarantinedExcluded, replaying_excluded: replayingExcluded },
      422,
    );
  const tooLarge = () =>
    new ValidationError(
      "PLAN_TOO_LARGE",
      `the filter matches more than ${MAX_PLAN_TASKS} tasks, the most a plan holds: narrow it, e.g. by time range`,
      undefined,
      422,
    );
  const spans = (queues: Array<{ queue?: string; n: number }>) =>
    new ValidationError(
      "PLAN_SPANS_QUEUES",
      `the filter matches tasks of both work queues (${queues.map((q) => `${q.queue}: ${q.n}`).join(", ")}); narrow it with queue or entity`,
      { queues },
      422,
    );
  const expected = byQueue!.results.reduce((n, q) => n + q.n, 0);
  if (expected === 0) throw nothing();
  if (expected > MAX_PLAN_TASKS) throw tooLarge();
  if (byQueue!.results.length > 1) throw spans(byQueue!.results);

  // Freeze the selection in one statement (INSERT … SELECT, oldest task first), so what the plan
  // counts is exactly what it holds. The checks run again on what was frozen: tasks may have
  // failed or settled since the counts above.
  const frozen = await db
    .prepare(
      `INSERT INTO replay_plan_items (plan_id, seq, task_id)
       SELECT ?${where.args.length + 2}, row_number() OVER (ORDER BY id), id FROM failed_tasks
        WHERE ${where.sql} AND status IN (SELECT value FROM json_each(?1)) ORDER BY id LIMIT ${MAX_PLAN_TASKS + 1}`,
    )
    .bind(statusList, ...where.args, id)
    .run();
  const total = frozen.meta.changes;
  const { results: queues } = await db
    .prepare(
      "SELECT t.queue, count(*) AS n FROM replay_plan_items i JOIN failed_tasks t ON t.id = i.task_id WHERE i.plan_id = ?1 GROUP BY t.queue",
    )
    .bind(id)
    .all<{ queue: string; n: number }>();
  const refuse = async (error: ValidationError) => {
    await db.prepare("DELETE FROM replay_plan_items WHERE plan_id = ?1").bind(id).run();
    throw error;
  };
  if (total === 0) throw nothing();
  if (total > MAX_PLAN_TASKS) await refuse(tooLarge());
  if (queues.length > 1) await refuse(spans(queues));

  const counts = { send: 0, superseded: 0, skipped: 0 };
  const opts = { mode: body.mode, override: body.override, allowReplaying: true, actor: actor.name, jobId: null, now };
  for (let after = 0; ; after += PAGE) {
    const tasks = await planTasks(db, id, after, PAGE);
    if (!tasks.length) break;
    for (const d of await decideReplays(deps.stores, tasks, opts)) counts[d.outcome]++;
  }
  const [byEntity, byError] = await db.batch<{ k: string | null; n: number }>([
    db
      .prepare(
        `SELECT t.entity AS k, count(*) AS n FROM replay_plan_items i JOIN failed_tasks t ON t.id = i.task_id WHERE i.plan_id = ?1 GROUP BY 1`,
      )
      .bind(id),
    db
      .prepare(
        `SELECT t.error_code AS k, count(*) AS n FROM replay_plan_items i JOIN failed_tasks t ON t.id = i.task_id WHERE i.plan_id = ?1 GROUP BY 1`,
      )
      .bind(id),
  ]);
  const plan: Plan = {
    id,
    queue: queues[0]!.queue as Plan["queue"],
    mode: body.mode,
    override: body.override,
    filter: body.filter,
    total,
    superseded: counts.superseded,
    to_send: counts.send,
    skipped: counts.skipped,
    quarantined_excluded: quarantinedExcluded,
    replaying_excluded: replayingExcluded,
    by_entity: breakdown(byEntity!.results),
    by_error: breakdown(byError!.results),
    created_at: now,
    created_by: actor.name,
    expires_at: new Date(Date.parse(now) + PLAN_TTL_MS).toISOString(),
    job_id: null,
  };
  const summary = {
    total,
    to_send: plan.to_send,
    superseded: plan.superseded,
    skipped: plan.skipped,
    quarantined_excluded: quarantinedExcluded,
    replaying_excluded: replayingExcluded,
  };
  await db.batch([
    db
      .prepare(
        `INSERT INTO replay_plans (id, queue, mode, override, filter, total, superseded, to_send, skipped, quarantined_excluded, replaying_excluded, by_entity, by_error, created_at, created_by, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)`,
      )
      .bind(
        id,
        plan.queue,
        plan.mode,
        plan.override ? 1 : 0,
        JSON.stringify(plan.filter),
        total,
        plan.superseded,
        plan.to_send,
        plan.skipped,
        quarantinedExcluded,
        replayingExcluded,
        JSON.stringify(plan.by_entity),
        JSON.stringify(plan.by_error),
        now,
        actor.name,
        plan.expires_at,
      ),
    auditStatement(db, {
      actor,
      action: body.override ? "override" : "plan",
      reason: body.reason ?? null,
      target_type: "plan",
      target_id: id,
      selection: { filter: body.filter, mode: body.mode, override: body.override },
      result: summary,
    }),
  ]);
  return plan;
}

export async function getPlan(db: D1Database, id: string): Promise<Plan> {
  const row = await db.prepare("SELECT * FROM replay_plans WHERE id = ?1").bind(id).first<Record<string, unknown>>();
  if (!row) throw new NotFoundError(`replay plan ${id} does not exist`);
  return {
    ...(row as unknown as Plan),
    override: row.override === 1,
    filter: JSON.parse(String(row.filter)),
    by_entity: JSON.parse(String(row.by_entity)),
    by_error: JSON.parse(String(row.by_error)),
  };
}

/** A plan that can still be executed, or why not. */
export function assertExecutable(plan: Plan, now = utcNow()): void {
  if (plan.job_id)
    throw new ConflictError(
      "PLAN_ALREADY_EXECUTED",
      `plan ${plan.id} was executed by job ${plan.job_id}; make a new plan`,
    );
  if (plan.expires_at <= now) {
    throw new ValidationError(
      "PLAN_EXPIRED",
      `plan ${plan.id} expired at ${plan.expires_at}; make a new plan to see what replaying does now`,
      undefined,
      410,
    );
  }
}

/** Tasks of a plan by position (seq > after), with what replay needs of them. */
export async function planTasks(db: D1Database, planId: string, after: number, limit: number): Promise<PlanTask[]> {
  const sql = `SELECT ${PLAN_TASK_COLUMNS} FROM replay_plan_items i JOIN failed_tasks t ON t.id = i.task_id
   WHERE i.plan_id = ?1 AND i.seq > ?2 ORDER BY i.seq LIMIT ?3`;
  return readPlanTasks(db.prepare(sql).bind(planId, after, limit));
}

/** The next tasks a job has not handled yet (index on plan_id, state, seq: no rescanning of done ones). */
export async function pendingTasks(db: D1Database, planId: string, limit: number): Promise<PlanTask[]> {
  const sql = `SELECT ${PLAN_TASK_COLUMNS} FROM replay_plan_items i INDEXED BY replay_plan_items_state_idx JOIN failed_tasks t ON t.id = i.task_id
   WHERE i.plan_id = ?1 AND i.state = 'pending' ORDER BY i.seq LIMIT ?2`;
  return readPlanTasks(db.prepare(sql).bind(planId, limit));
}

type PlanTask = ReplayableTask & { seq: number };
const PLAN_TASK_COLUMNS =
  "i.seq, t.id, t.queue, t.event_id, t.entity, t.row_id, t.status, t.replay_count, t.event, t.error_code";

async function readPlanTasks(statement: D1PreparedStatement): Promise<PlanTask[]> {
  const { results } = await statement.all<Record<string, unknown>>();
  return results.map((r) => ({ ...(r as unknown as PlanTask), event: JSON.parse(String(r.event)) }));
}

function breakdown(rows: Array<{ k: string | null; n: number }>): Record<string, number> {
  return Object.fromEntries(rows.map((r) => [r.k ?? "(unknown)", r.n]));
}
