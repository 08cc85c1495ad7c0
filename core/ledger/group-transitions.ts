import type { GroupStatus } from "../../schemas/operator-api";
import { ConflictError } from "../errors";
import { GROUP_MOVES } from "./group-status";
import { allows } from "./status-moves";

/**
 * An operator moves a group (acknowledge, ignore, resolve, reopen), from the status it was read
 * with. Returned as a statement: the caller commits it in one db.batch with its audit line.
 */
export function changeGroupStatusStatement(
  db: D1Database,
  change: { id: string; from: GroupStatus; to: GroupStatus; by: string; reason: string; now: string },
): D1PreparedStatement {
  if (change.from === change.to)
    throw new ConflictError("NO_CHANGE", `failure group ${change.id} is already ${change.to}`);
  if (!allows(GROUP_MOVES.operator, change.from, change.to)) {
    throw new ConflictError(
      "INVALID_TRANSITION",
      `failure group status cannot go from ${change.from} to ${change.to}`,
      { from: change.from, to: change.to },
    );
  }
  return db
    .prepare(
      `UPDATE failure_groups SET status = ?2, status_changed_at = ?3, status_changed_by = ?4, status_reason = ?5 WHERE id = ?1`,
    )
    .bind(change.id, change.to, change.now, change.by, change.reason);
}
