import { TASK_STATUSES, type TaskStatus } from "../../schemas/operator-api";
import type { StateMachine } from "../../schemas/state-machine";
import { namedMoves, sqlList } from "./status-moves";

/**
 * failed_tasks.status. A task opens when it fails; a replay marks it replaying (a quarantined one
 * only with an override: a condition of the replay, not of the machine); the consumer settles the
 * replay as resolved or superseded; a replay may also find it superseded without sending. Any task
 * that fails again is reopened, or quarantined once replayed too often.
 */
export const taskStatusMachine: StateMachine<TaskStatus> = {
  field: "failed_tasks.status",
  transitions: {
    open: ["replaying", "superseded", "quarantined"],
    replaying: ["open", "resolved", "superseded", "quarantined"],
    resolved: ["open", "quarantined"],
    superseded: ["open", "quarantined"],
    quarantined: ["open", "replaying", "superseded"],
  },
};

/** The transitions core/ledger makes; the SQL guards of task-transitions.ts are built from them. */
export const TASK_MOVES = namedMoves(taskStatusMachine, {
  /** record-failures.ts: a new delivery of the task's event failed (no status guard: any task). */
  failedAgain: { from: TASK_STATUSES, to: ["open", "quarantined"] },
  /** A replay claims and records the task before sending it. */
  replay: { from: ["open", "replaying", "quarantined"], to: ["replaying"] },
  /** A replay finds the replica already holds this version or a newer one: done without sending. */
  supersede: { from: ["open", "replaying", "quarantined"], to: ["superseded"] },
  /** The work-queue consumer applied the replay (resolved) or found it stale (superseded). */
  settle: { from: ["replaying"], to: ["resolved", "superseded"] },
  /** The queue refused the replay: the task gets back the status it had before it was claimed. */
  revertUnsent: { from: ["replaying"], to: ["open", "replaying", "quarantined"] },
});

/** Where a replay's outcome leaves a task: done, until a new failure of its event reopens it. */
export const SETTLED_TASK_STATUSES: readonly TaskStatus[] = [
  ...new Set([...TASK_MOVES.settle.to, ...TASK_MOVES.supersede.to]),
];
/** Task statuses that still need an operator: a group is not done while any of its tasks has one. */
export const UNSETTLED_TASK_STATUSES: readonly TaskStatus[] = TASK_STATUSES.filter(
  (s) => !SETTLED_TASK_STATUSES.includes(s),
);

export const UNSETTLED = sqlList(UNSETTLED_TASK_STATUSES);
export const SETTLED = sqlList(SETTLED_TASK_STATUSES);
