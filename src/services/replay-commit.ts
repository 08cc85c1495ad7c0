import { newEventId } from "../../schemas/event";
import { sendBatches } from "../../core/batching/send-batches";
import { describe } from "../../core/errors";
import { settleGroupsStatement } from "../../core/ledger/settle-groups";
import { isSend, type Decision, type ReplayOptions, type SendDecision } from "./replay-decide";

export interface ChunkResult {
  sent: SendDecision[];
  superseded: Decision[];
  skipped: Decision[];
  /** Decided "send" but the queue refused them; reverted, nothing of them was sent. */
  unsent: SendDecision[];
  error: string | null;
}

/**
 * Records a chunk's decisions, then sends. Recording first (tasks → replaying, history, the
 * caller's own rows such as job items, all in one D1 batch) is what makes a job send each task at
 * most once: a crash after the commit leaves a task "replaying" and never resends it. If the
 * queue refuses, the unsent part is reverted, so nothing is recorded as sent that was not.
 */
export async function commitAndSend(
  deps: { db: D1Database; queue: Queue },
  decisions: Decision[],
  opts: ReplayOptions,
  caller: { commit: D1PreparedStatement[]; revert: (unsent: Decision[]) => D1PreparedStatement[] },
): Promise<ChunkResult> {
  const db = deps.db;
  const result: ChunkResult = {
    sent: decisions.filter(isSend),
    superseded: decisions.filter((d) => d.outcome === "superseded"),
    skipped: decisions.filter((d) => d.outcome === "skipped"),
    unsent: [],
    error: null,
  };
  const historyIds = new Map(decisions.map((d) => [d.task.id, newEventId()]));
  const history = [...result.sent, ...result.superseded].map((d) => ({
    id: historyIds.get(d.task.id),
    queue: d.task.queue,
    event_id: d.task.event_id,
    kind: d.outcome === "send" ? "replay" : "superseded",
    detail: d.outcome === "superseded" ? d.detail : null,
  }));
  const ids = (list: Decision[]) => JSON.stringify(list.map((d) => d.task.id));
  await db.batch([
    db
      .prepare(
        `UPDATE failed_tasks SET status = 'replaying', replay_count = replay_count + 1, last_replayed_at = ?2, last_job_id = ?3
          WHERE id IN (SELECT value FROM json_each(?1))`,
      )
      .bind(ids(result.sent), opts.now, opts.jobId),
    db
      .prepare(`UPDATE failed_tasks SET status = 'superseded', resolved_at = ?2 WHERE id IN (SELECT value FROM json_each(?1))`)
      .bind(ids(result.superseded), opts.now),
    db
      .prepare(
        `INSERT INTO failed_task_history (id, queue, event_id, kind, at, dedupe_key, job_id, actor, mode, error_message)
         SELECT json_extract(j.value, '$.id'), json_extract(j.value, '$.queue'), json_extract(j.value, '$.event_id'),
                json_extract(j.value, '$.kind'), ?2, json_extract(j.value, '$.id'), ?3, ?4, ?5, json_extract(j.value, '$.detail')
           FROM json_each(?1) j`,
      )
      .bind(JSON.stringify(history), opts.now, opts.jobId, opts.actor, opts.mode),
    settleGroupsStatement(db, result.superseded.map((d) => d.task.id), opts.now),
    ...caller.commit,
  ]);

  const batches = sendBatches(result.sent, (d) => d.event);
  for (let i = 0; i < batches.length; i++) {
    try {
      await deps.queue.sendBatch(batches[i]!.map((d) => ({ body: d.event, contentType: "json" as const })));
    } catch (error) {
      result.unsent = batches.slice(i).flat();
      result.error = `queue refused the replay: ${describe(error).message}`;
      break;
    }
  }
  if (result.unsent.length) {
    const unsentIds = new Set(result.unsent.map((d) => d.task.id));
    result.sent = result.sent.filter((d) => !unsentIds.has(d.task.id));
    await db.batch([
      db
        .prepare(
          `UPDATE failed_tasks
              SET status = (SELECT json_extract(j.value, '$.status') FROM json_each(?1) j WHERE json_extract(j.value, '$.id') = failed_tasks.id),
                  replay_count = replay_count - 1
            WHERE id IN (SELECT json_extract(value, '$.id') FROM json_each(?1))`,
        )
        .bind(JSON.stringify(result.unsent.map((d) => ({ id: d.task.id, status: d.task.status })))),
      db
        .prepare(`DELETE FROM failed_task_history WHERE id IN (SELECT value FROM json_each(?1))`)
        .bind(JSON.stringify(result.unsent.map((d) => historyIds.get(d.task.id)))),
      ...caller.revert(result.unsent),
    ]);
  }
  return result;
}
