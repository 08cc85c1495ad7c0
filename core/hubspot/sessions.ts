import { ConflictError, NotFoundError, SyncError } from "../errors";
import type { SupabaseRpc } from "../stores/supabase-rpc";
import { syncSessionMachine, type SyncSessionStatus, type SyncSessionType } from "../../schemas/hubspot/sync-session";
import { reportLogFailure, type SessionLog } from "./session-log";

/** A row of public.sync_sessions (migration supabase/0010). */
export interface SyncSession {
  id: string;
  session_id: string;
  connection_id: string | null;
  type: SyncSessionType;
  status: SyncSessionStatus;
  start_time: string | null;
  end_time: string | null;
  records_count: number;
  error_count: number;
  archived_count: number;
  /** HubSpot's paging cursor of the next page to read: where a resumed full sync starts. */
  after_cursor: string | null;
  high_water_mark: string | null;
  error: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * Progress as totals so far, not increments: a progress call repeated after a timeout, or arriving
 * late, never counts twice or moves the cursor back (the SQL keeps the greatest totals and moves
 * the cursor only with a records_count at least as high).
 */
export interface SessionProgress {
  records_count?: number;
  error_count?: number;
  archived_count?: number;
  /** null once the last page was read. */
  after?: string | null;
  high_water_mark?: string;
}

/** Creates a pending session. One pending or running session per connection. */
export async function createSession(
  rpc: SupabaseRpc,
  input: { sessionId: string; type: SyncSessionType; connectionId?: string | null },
): Promise<SyncSession> {
  try {
    return await rpc.call<SyncSession>("sync_hubspot_session_create", {
      p_session: { session_id: input.sessionId, type: input.type, connection_id: input.connectionId ?? null },
    });
  } catch (error) {
    if (error instanceof SyncError && error.code === "UNIQUE_VIOLATION") {
      if (error.message.includes("sync_sessions_one_active_idx"))
        throw new ConflictError(
          "SESSION_ALREADY_ACTIVE",
          `connection ${input.connectionId} already has a pending or running sync session: resume it or wait for it`,
        );
      throw new ConflictError("ALREADY_EXISTS", `sync session ${input.sessionId} already exists`);
    }
    throw error;
  }
}

export async function getSession(rpc: SupabaseRpc, id: string): Promise<SyncSession> {
  const session = await rpc.call<SyncSession | null>("sync_hubspot_session_get", { p_id: id });
  if (!session) throw new NotFoundError(`no sync session ${id}`);
  return session;
}

export const startSession = (rpc: SupabaseRpc, id: string) => advance(rpc, id, "running", {});

/**
 * Records progress of a running session (not a move: only a running session takes progress).
 * `log`: the session's log lines for what this progress covers, written in the same round trip.
 */
export const recordProgress = (rpc: SupabaseRpc, id: string, progress: SessionProgress, log?: SessionLog) =>
  advance(rpc, id, "running", { ...progress, expect_status: "running" }, log);

export const completeSession = (rpc: SupabaseRpc, id: string, progress: SessionProgress = {}, log?: SessionLog) =>
  advance(rpc, id, "completed", progress, log);

export const failSession = (
  rpc: SupabaseRpc,
  id: string,
  error: string,
  progress: SessionProgress = {},
  log?: SessionLog,
) => advance(rpc, id, "failed", { ...progress, error }, log);

async function advance(
  rpc: SupabaseRpc,
  id: string,
  to: SyncSessionStatus,
  progress: SessionProgress & { error?: string; expect_status?: SyncSessionStatus },
  log?: SessionLog,
): Promise<SyncSession> {
  const args = { p_id: id, p_status: to, p_progress: progress };
  type Answer = { refused: boolean; session: SyncSession; log_error?: string } | null;
  // With log lines: the move and the lines in one call. A line the database refuses is rolled back
  // alone there and comes back as log_error: the sync never fails because its log could not be written.
  const result = log
    ? await rpc.call<Answer>("sync_hubspot_session_advance_logged", { ...args, p_log: log })
    : await rpc.call<Answer>("sync_hubspot_session_advance", args);
  if (result?.log_error) reportLogFailure(id, result.log_error);
  if (!result) throw new NotFoundError(`no sync session ${id}`);
  if (result.refused) {
    const from = result.session.status;
    throw new ConflictError(
      "INVALID_TRANSITION",
      from === to
        ? `sync session ${id} is already ${from}`
        : progress.expect_status && progress.expect_status !== from
          ? `sync session ${id} is ${from}: only a running session takes progress`
          : `sync session ${id} cannot go from ${from} to ${to}`,
      { from, to, allowed: syncSessionMachine.transitions[from] },
    );
  }
  return result.session;
}

/** The newest sessions first (at most 200), for the console. */
export function recentSessions(rpc: SupabaseRpc, limit = 20): Promise<SyncSession[]> {
  return rpc.call<SyncSession[]>("sync_hubspot_sessions_list", { p_limit: limit, p_before: null });
}
