import { GROUP_ACTIONS, type GroupAction, type GroupStatus } from "../../../../schemas/operator-api";
import { GROUP_MOVES } from "../../../../core/ledger/group-status";
import { allows } from "../../../../core/ledger/status-moves";

export const ACTION_LABEL: Record<GroupAction, string> = {
  acknowledge: "Acknowledge",
  ignore: "Ignore",
  resolve: "Resolve",
  reopen: "Reopen",
};

/**
 * The operator's actions a group in `status` can take: those the status machine's operator moves
 * allow (core/ledger/group-status.ts), without the one that would leave it where it is (NO_CHANGE).
 * The page offers only these; changeGroupStatus still checks, so a stale page is refused as the API is.
 */
export function groupActionsFrom(status: GroupStatus): GroupAction[] {
  return (Object.keys(GROUP_ACTIONS) as GroupAction[]).filter(
    (action) => GROUP_ACTIONS[action] !== status && allows(GROUP_MOVES.operator, status, GROUP_ACTIONS[action]),
  );
}

export function isGroupAction(value: unknown): value is GroupAction {
  return typeof value === "string" && Object.hasOwn(GROUP_ACTIONS, value);
}
