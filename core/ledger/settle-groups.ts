import { GROUP_MOVES } from "./group-status";
import { sqlList } from "./status-moves";
import { UNSETTLED } from "./task-status";

/**
 * Resolves the groups of these tasks once none of their tasks needs attention any more (all
 * resolved or superseded). Ignored groups stay ignored. A later failure reopens the group.
 */
export function settleGroupsStatement(db: D1Database, taskIds: string[], now: string): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE failure_groups SET status = 'resolved', status_changed_at = ?2, status_changed_by = 'system',
              status_reason = 'every task resolved or superseded'
        WHERE status IN ${sqlList(GROUP_MOVES.settled.from)}
          AND id IN (SELECT group_id FROM failed_tasks WHERE id IN (SELECT value FROM json_each(?1)))
          AND NOT EXISTS (SELECT 1 FROM failed_tasks t WHERE t.group_id = failure_groups.id AND t.status IN ${UNSETTLED})`,
    )
    .bind(JSON.stringify(taskIds), now);
}
