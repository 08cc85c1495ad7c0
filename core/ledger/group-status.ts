import { GROUP_ACTIONS, GROUP_STATUSES, type GroupStatus } from "../../schemas/operator-api";
import type { StateMachine } from "../../schemas/state-machine";
import { namedMoves } from "./status-moves";

/**
 * failure_groups.status. An operator may move a group from any status to any other (acknowledge,
 * ignore, resolve, reopen); the system resolves a group once none of its tasks needs attention and
 * reopens a resolved group that fails again. Ignored stays ignored until an operator moves it.
 */
export const groupStatusMachine: StateMachine<GroupStatus> = {
  field: "failure_groups.status",
  transitions: {
    open: ["acknowledged", "ignored", "resolved"],
    acknowledged: ["open", "ignored", "resolved"],
    ignored: ["open", "acknowledged", "resolved"],
    resolved: ["open", "acknowledged", "ignored"],
  },
};

export const GROUP_MOVES = namedMoves(groupStatusMachine, {
  /** changeGroupStatus: the operator's actions, from any status (the same status is refused as NO_CHANGE). */
  operator: { from: GROUP_STATUSES, to: Object.values(GROUP_ACTIONS) },
  /** record-failures.ts: a resolved group failing again opens (ignored and acknowledged ones stay). */
  failedAgain: { from: ["resolved"], to: ["open"] },
  /** settle-groups.ts: every task of the group resolved or superseded. */
  settled: { from: ["open", "acknowledged"], to: ["resolved"] },
});
