import type { z } from "zod";
import {
  GROUP_ACTIONS,
  type FailedTask,
  type FailureGroup,
  type GroupAction,
  type listGroupsQuery,
} from "../../schemas/operator-api";
import { NotFoundError } from "../../core/errors";
import { utcNow } from "../../core/utc";
import { changeGroupStatusStatement } from "../../core/ledger/group-transitions";
import { UNSETTLED } from "../../core/ledger/task-status";
import { auditStatement, type Actor } from "./audit";
import { TASK_COLUMNS, toTask } from "./failed-tasks";

// Counts are computed from failed_tasks (indexed on group_id, status), so they are always exact.
const GROUP_SELECT = `SELECT g.*,
    (SELECT count(*) FROM failed_tasks t WHERE t.group_id = g.id) AS tasks,
    (SELECT count(*) FROM failed_tasks t WHERE t.group_id = g.id AND t.status IN ${UNSETTLED}) AS open_tasks
  FROM failure_groups g`;

/**
 * Most recently failing first, a page at a time: the cursor is the last group's (last_seen_at, id),
 * so a group failing again while the operator pages moves to the top instead of shifting the pages.
 */
export async function listFailureGroups(
  db: D1Database,
  q: z.infer<typeof listGroupsQuery>,
): Promise<{ items: FailureGroup[]; nextCursor: string | null }> {
  const [seenAt, afterId] = q.cursor ? q.cursor.split("~") : [null, null];
  const { results } = await db
    .prepare(
      `${GROUP_SELECT} WHERE (?1 IS NULL OR g.status = ?1) AND (?2 IS NULL OR g.entity = ?2) AND (?3 IS NULL OR g.queue = ?3)
          AND (?5 IS NULL OR g.last_seen_at < ?5 OR (g.last_seen_at = ?5 AND g.id > ?6))
        ORDER BY g.last_seen_at DESC, g.id LIMIT ?4`,
    )
    .bind(q.status ?? null, q.entity ?? null, q.queue ?? null, q.limit + 1, seenAt, afterId)
    .all<FailureGroup>();
  const items = results.slice(0, q.limit);
  const last = items[items.length - 1];
  return { items, nextCursor: results.length > q.limit && last ? `${last.last_seen_at}~${last.id}` : null };
}

export async function getFailureGroup(
  db: D1Database,
  id: string,
): Promise<{ group: FailureGroup; examples: FailedTask[] }> {
  const [group, examples] = await db.batch<Record<string, unknown>>([
    db.prepare(`${GROUP_SELECT} WHERE g.id = ?1`).bind(id),
    db.prepare(`SELECT ${TASK_COLUMNS} FROM failed_tasks WHERE group_id = ?1 ORDER BY id DESC LIMIT 5`).bind(id),
  ]);
  const row = group!.results[0] as FailureGroup | undefined;
  if (!row) throw new NotFoundError(`failure group ${id} does not exist`);
  return { group: row, examples: examples!.results.map(toTask) };
}

/**
 * Acknowledge (someone is on it), ignore (stays quiet when new failures arrive), resolve, or
 * reopen a group. Recorded in the audit trail in the same transaction.
 */
export async function changeGroupStatus(
  db: D1Database,
  id: string,
  action: GroupAction,
  by: { actor: Actor; reason: string },
): Promise<FailureGroup> {
  const before = (await getFailureGroup(db, id)).group;
  const status = GROUP_ACTIONS[action];
  await db.batch([
    changeGroupStatusStatement(db, {
      id,
      from: before.status,
      to: status,
      by: by.actor.name,
      reason: by.reason,
      now: utcNow(),
    }),
    auditStatement(db, {
      actor: by.actor,
      action,
      reason: by.reason,
      target_type: "group",
      target_id: id,
      selection: {
        entity: before.entity,
        queue: before.queue,
        error_code: before.error_code,
        message_pattern: before.message_pattern,
      },
      result: { from: before.status, to: status, open_tasks: before.open_tasks },
    }),
  ]);
  return (await getFailureGroup(db, id)).group;
}
