import type { TaskStatus } from "../../schemas/operator-api";
import { settleGroupsStatement } from "./settle-groups";
import { allows, sqlList, type Moves } from "./status-moves";
import { TASK_MOVES } from "./task-status";

/** What a transition needs of a failed task: its identity and the status it was read with. */
export interface TaskRef {
  id: string;
  queue: string;
  event_id: string;
  status: TaskStatus;
}

/** The replay path decides before the ledger writes: a decision the machine refuses is a bug there. */
function assertMoves(moves: Moves<TaskStatus>, name: string, from: TaskStatus, to: TaskStatus, id: string): void {
  if (!allows(moves, from, to)) throw new Error(`failed task ${id}: ${name} cannot move ${from} → ${to}`);
}

/**
 * Every replay (a single one, a job's chunk) claims its tasks before recording and sending them: a
 * compare-and-set on the status and replay count they were read with, which it moves on (replaying,
 * count + 1). Of two replays racing for a task (two operators, two overrides of a stuck task, a job
 * and a single replay) only the first gets past it; the count is what a second override of a task
 * already replaying would otherwise find unchanged. Answers the ids claimed; any other task changed
 * meanwhile, and nothing of it may be sent. A crash between the claim and the send leaves the task
 * replaying and unsent: the same "stuck" state a crash after the record leaves, which an override
 * replays, never a duplicate.
 */
export async function claimForReplay(db: D1Database, tasks: ClaimRef[]): Promise<Set<string>> {
  if (!tasks.length) return new Set();
  for (const task of tasks) assertMoves(TASK_MOVES.replay, "replay", task.status, "replaying", task.id);
  const { results } = await db
    .prepare(
      `UPDATE failed_tasks SET status = 'replaying', replay_count = replay_count + 1
        WHERE id IN (SELECT json_extract(value, '$.id') FROM json_each(?1))
          AND status IN ${sqlList(TASK_MOVES.replay.from)}
          AND EXISTS (SELECT 1 FROM json_each(?1) j WHERE json_extract(j.value, '$.id') = failed_tasks.id
                        AND json_extract(j.value, '$.status') = failed_tasks.status
                        AND json_extract(j.value, '$.replay_count') = failed_tasks.replay_count)
        RETURNING id`,
    )
    .bind(JSON.stringify(tasks.map((t) => ({ id: t.id, status: t.status, replay_count: t.replay_count }))))
    .all<{ id: string }>();
  return new Set(results.map((r) => r.id));
}

/** A task as a replay read it: the claim holds only if neither has changed since. */
export type ClaimRef = Pick<TaskRef, "id" | "status"> & { replay_count: number };

export interface ReplayRecord {
  /** Tasks about to be sent, each with the id its "replay" history line gets. */
  sent: Array<{ task: TaskRef; historyId: string }>;
  /** Tasks done without sending, with why (the history line's message). */
  superseded: Array<{ task: TaskRef; historyId: string; detail: string }>;
  now: string;
  jobId: string | null;
  actor: string;
  mode: string;
}

/**
 * Records a replay chunk before anything is sent: claimed tasks get their replay time and job,
 * superseded ones are settled, a history line each, their groups resolved if nothing is left open.
 * The caller runs these first in its own db.batch, followed by its own rows (audit, job items,
 * counters), so the record and the caller's rows commit together; a crash after the commit leaves
 * tasks replaying, never resent. No status guard in the SQL: the tasks to send were claimed
 * (claimForReplay), and superseded ones were decided from the statuses just read; the moves are
 * checked against the machine.
 */
export function recordReplayStatements(db: D1Database, r: ReplayRecord): D1PreparedStatement[] {
  for (const { task } of r.sent) assertMoves(TASK_MOVES.replay, "replay", task.status, "replaying", task.id);
  for (const { task } of r.superseded)
    assertMoves(TASK_MOVES.supersede, "supersede", task.status, "superseded", task.id);
  const ids = (list: Array<{ task: TaskRef }>) => JSON.stringify(list.map((d) => d.task.id));
  const history = [
    ...r.sent.map((d) => ({
      id: d.historyId,
      queue: d.task.queue,
      event_id: d.task.event_id,
      kind: "replay",
      detail: null,
    })),
    ...r.superseded.map((d) => ({
      id: d.historyId,
      queue: d.task.queue,
      event_id: d.task.event_id,
      kind: "superseded",
      detail: d.detail,
    })),
  ];
  return [
    db
      .prepare(
        `UPDATE failed_tasks SET last_replayed_at = ?2, last_job_id = ?3 WHERE id IN (SELECT value FROM json_each(?1))`,
      )
      .bind(ids(r.sent), r.now, r.jobId),
    db
      .prepare(
        `UPDATE failed_tasks SET status = 'superseded', resolved_at = ?2 WHERE id IN (SELECT value FROM json_each(?1))`,
      )
      .bind(ids(r.superseded), r.now),
    db
      .prepare(
        `INSERT INTO failed_task_history (id, queue, event_id, kind, at, dedupe_key, job_id, actor, mode, error_message)
         SELECT json_extract(j.value, '$.id'), json_extract(j.value, '$.queue'), json_extract(j.value, '$.event_id'),
                json_extract(j.value, '$.kind'), ?2, json_extract(j.value, '$.id'), ?3, ?4, ?5, json_extract(j.value, '$.detail')
           FROM json_each(?1) j`,
      )
      .bind(JSON.stringify(history), r.now, r.jobId, r.actor, r.mode),
    settleGroupsStatement(
      db,
      r.superseded.map((d) => d.task.id),
      r.now,
    ),
  ];
}

/**
 * Undoes the record of replays the queue refused: each task gets back the status it had before
 * (`task.status`, as read before the claim), its replay is uncounted and its history line removed.
 * The caller appends its own reverts to the same batch.
 */
export function revertUnsentStatements(
  db: D1Database,
  unsent: Array<{ task: TaskRef; historyId: string }>,
): D1PreparedStatement[] {
  for (const { task } of unsent)
    assertMoves(TASK_MOVES.revertUnsent, "revertUnsent", "replaying", task.status, task.id);
  return [
    db
      .prepare(
        `UPDATE failed_tasks
            SET status = (SELECT json_extract(j.value, '$.status') FROM json_each(?1) j WHERE json_extract(j.value, '$.id') = failed_tasks.id),
                replay_count = replay_count - 1
          WHERE id IN (SELECT json_extract(value, '$.id') FROM json_each(?1))`,
      )
      .bind(JSON.stringify(unsent.map((d) => ({ id: d.task.id, status: d.task.status })))),
    db
      .prepare(`DELETE FROM failed_task_history WHERE id IN (SELECT value FROM json_each(?1))`)
      .bind(JSON.stringify(unsent.map((d) => d.historyId))),
  ];
}

/** A replayed event the work-queue consumer applied (resolved) or found stale (superseded). */
export interface SettledReplay {
  task_id: string;
  kind: "resolved" | "superseded";
  event_id: string;
  job_id: string | null;
  mode: string | null;
  by: string | null;
  /** The replay and the delivery: a redelivered batch writes no second history line. */
  key: string;
}

/**
 * Settles replays: a history line (no actor: the consumer settled it, not an operator), the task's
 * status, then its group if nothing is left open. Only tasks still replaying are touched, so a
 * task that failed again or was settled already is left as it is; the history goes first, as it
 * checks the status the updates are about to change. A replay carries its task's event id, so no
 * join is needed; each check is a key lookup.
 */
export function settleReplayStatements(
  db: D1Database,
  queue: string,
  settled: SettledReplay[],
  now: string,
): D1PreparedStatement[] {
  const from = sqlList(TASK_MOVES.settle.from);
  return [
    db
      .prepare(
        `INSERT OR IGNORE INTO failed_task_history (id, queue, event_id, kind, at, dedupe_key, job_id, mode)
         SELECT json_extract(j.value, '$.task_id') || ':' || json_extract(j.value, '$.key'), ?2, json_extract(j.value, '$.event_id'),
                json_extract(j.value, '$.kind'), ?3, json_extract(j.value, '$.key'), json_extract(j.value, '$.job_id'),
                json_extract(j.value, '$.mode')
           FROM json_each(?1) j
          WHERE EXISTS (SELECT 1 FROM failed_tasks t WHERE t.id = json_extract(j.value, '$.task_id') AND t.status IN ${from})`,
      )
      .bind(JSON.stringify(settled), queue, now),
    ...TASK_MOVES.settle.to.map((kind) =>
      db
        .prepare(
          `UPDATE failed_tasks SET status = ?2, resolved_at = ?3 WHERE id IN (SELECT value FROM json_each(?1)) AND status IN ${from}`,
        )
        .bind(JSON.stringify(settled.filter((r) => r.kind === kind).map((r) => r.task_id)), kind, now),
    ),
    settleGroupsStatement(
      db,
      settled.map((r) => r.task_id),
      now,
    ),
  ];
}
