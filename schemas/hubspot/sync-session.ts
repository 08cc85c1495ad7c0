import type { StateMachine } from "../state-machine";

export const SYNC_SESSION_STATUSES = ["pending", "running", "completed", "failed"] as const;
export type SyncSessionStatus = (typeof SYNC_SESSION_STATUSES)[number];
export const SYNC_SESSION_TYPES = ["full", "incremental"] as const;
export type SyncSessionType = (typeof SYNC_SESSION_TYPES)[number];

/**
 * Seed 002's sync status flow: pending → running → completed, and any unfinished session can fail
 * (the seed's "error"). Completed and failed are final: a failed full sync is resumed by a new
 * session that starts from the failed one's cursor, so each session's counts stay its own.
 * Enforced by public.sync_hubspot_session_advance and a transition trigger on sync_sessions.
 */
export const syncSessionMachine: StateMachine<SyncSessionStatus> = {
  field: "status",
  transitions: {
    pending: ["running", "failed"],
    running: ["completed", "failed"],
    completed: [],
    failed: [],
  },
};
