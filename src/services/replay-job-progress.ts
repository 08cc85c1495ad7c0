import { TASK_MOVES } from "../../core/ledger/task-status";
import { sqlList } from "../../core/ledger/status-moves";

/**
 * How many tasks this job sent have failed again since (reopened or quarantined) and were not
 * replayed by anyone after it. Walks the job's sent plan items (indexed on plan_id, state) and
 * looks each task up by its key, so it costs the job's size, never the ledger's.
 *   SELECT count(*) FROM replay_plan_items i JOIN failed_tasks t ON t.id = i.task_id
 *    WHERE i.plan_id = ?1 AND i.state = 'sent' AND t.last_job_id = ?2 AND t.status IN ('open','quarantined')
 */
export async function failedAgainCount(db: D1Database, job: { id: string; plan_id: string }): Promise<number> {
  const row = await db
    .prepare(
      `SELECT count(*) AS n FROM replay_plan_items i JOIN failed_tasks t ON t.id = i.task_id
        WHERE i.plan_id = ?1 AND i.state = 'sent' AND t.last_job_id = ?2 AND t.status IN ${sqlList(TASK_MOVES.failedAgain.to)}`,
    )
    .bind(job.plan_id, job.id)
    .first<{ n: number }>();
  return row?.n ?? 0;
}
