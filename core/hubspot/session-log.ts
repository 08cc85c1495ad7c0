import { describe, NotFoundError } from "../errors";
import type { SupabaseRpc } from "../stores/supabase-rpc";
import type { ErrorType, SyncLogStatus } from "../../schemas/hubspot/sync-event";
import { errorCategory } from "./error-category";
import { sanitise } from "./sanitise";

/** A line of public.sync_logs (seed 002): one per page or step read, one per contact refused. */
export interface SyncLogLine {
  operation: "sync";
  entity_type: "contact";
  /** The page's stable id (`live:<cursor>`, `archived:<cursor>`, `search:<from>-<to>#<n>`) or a HubSpot id. */
  entity_id: string;
  status: SyncLogStatus;
  details: Record<string, unknown>;
}

/** A line of public.error_logs: categorised, message and stack sanitised and capped. */
export interface ErrorLogLine {
  error_type: ErrorType;
  error_message: string;
  stack_trace: string | null;
  context: Record<string, unknown>;
}

export interface SessionLog {
  logs?: SyncLogLine[];
  errors?: ErrorLogLine[];
}

/** A contact that could not become an event, as the fetch side reports it (producers/hubspot-contacts.ts). */
export interface RefusedContact {
  hubspotId: string | null;
  code: string;
  message: string;
}

/** At most this many refused contacts get a line each per page: a page of 100 bad contacts stays 20 lines. */
const REFUSED_LINES_PER_PAGE = 20;
const MESSAGE_CHARS = 1000;
const STACK_CHARS = 4000;

/**
 * The lines of one page read: its own (success, or warning when contacts were refused), one per
 * refused contact (error, with the reason) and, when some were refused, one `validation` error.
 */
export function pageLog(page: {
  id: string;
  read: number;
  archived: number;
  queued: number;
  refused: RefusedContact[];
  next: string | null;
}): SessionLog {
  const refused = page.refused.length;
  const logs: SyncLogLine[] = [
    {
      operation: "sync",
      entity_type: "contact",
      entity_id: page.id,
      status: refused ? "warning" : "success",
      details: { read: page.read, archived: page.archived, queued: page.queued, refused, cursor: page.next },
    },
    ...page.refused.slice(0, REFUSED_LINES_PER_PAGE).map((r): SyncLogLine => ({
      operation: "sync",
      entity_type: "contact",
      entity_id: r.hubspotId ?? "unknown",
      status: "error",
      details: { page: page.id, code: r.code, reason: sanitise(r.message, MESSAGE_CHARS) },
    })),
  ];
  if (!refused) return { logs };
  const first = page.refused[0]!;
  return {
    logs,
    errors: [
      {
        error_type: "validation",
        error_message: sanitise(`${refused} contact(s) refused: ${first.code}: ${first.message}`, MESSAGE_CHARS)!,
        stack_trace: null,
        context: {
          page: page.id,
          refused,
          hubspot_ids: page.refused.slice(0, REFUSED_LINES_PER_PAGE).map((r) => r.hubspotId),
          // They are dead-lettered like any poison event: failed_tasks holds each with its reason.
          failed_tasks: true,
        },
      },
    ],
  };
}

/** An error the sync met, categorised (auth, rate_limit, network, …) and sanitised. */
export function errorLine(error: unknown, context: Record<string, unknown>): ErrorLogLine {
  const { code, message, retryable } = describe(error);
  const stack = error instanceof Error ? (error.stack ?? null) : null;
  return {
    error_type: errorCategory(error),
    error_message: sanitise(`${code}: ${message}`, MESSAGE_CHARS)!,
    stack_trace: sanitise(stack, STACK_CHARS),
    context: { ...context, code, retryable },
  };
}

/**
 * Writes log lines on their own (when no session move carries them). Never throws: the logs
 * describe the sync, they are not the sync, so a log that cannot be written is reported in the
 * worker's log and the sync carries on.
 */
export async function writeSessionLog(rpc: SupabaseRpc, sessionId: string | null, log: SessionLog): Promise<void> {
  try {
    await rpc.call("sync_hubspot_log_write", { p: { session_id: sessionId, logs: log.logs, errors: log.errors } });
  } catch (error) {
    reportLogFailure(sessionId, describe(error).message);
  }
}

/** A log write that failed, in the worker's log (the sync is not failed for it). */
export function reportLogFailure(sessionId: string | null, why: string): void {
  console.error(JSON.stringify({ msg: "hubspot session log not written", session: sessionId, error: why }));
}

export interface LogPage<T> {
  items: T[];
  /** The cursor of the next page, null when this one is the last. */
  next_after: number | null;
}

type Stored<T> = T & { id: string; seq: number; session_id: string | null; timestamp: string };

/** A session's sync_logs in writing order, paged by `after` (a line's seq). */
export function sessionLogs(rpc: SupabaseRpc, sessionId: string, q: { after?: number; limit: number }) {
  return page<Stored<SyncLogLine>>(rpc, "sync_logs", sessionId, q);
}

/** A session's error_logs in writing order, paged the same way. */
export function sessionErrors(rpc: SupabaseRpc, sessionId: string, q: { after?: number; limit: number }) {
  return page<Stored<ErrorLogLine & { resolved: boolean }>>(rpc, "error_logs", sessionId, q);
}

async function page<T extends { seq: number }>(
  rpc: SupabaseRpc,
  table: "sync_logs" | "error_logs",
  sessionId: string,
  q: { after?: number; limit: number },
): Promise<LogPage<T>> {
  const items = await rpc.call<T[]>("sync_hubspot_session_lines", {
    p_table: table,
    p_session_id: sessionId,
    p_after: q.after ?? 0,
    p_limit: q.limit,
  });
  return { items, next_after: items.length === q.limit ? Number(items.at(-1)!.seq) : null };
}

/** Marks a session's unresolved error lines resolved (seed 002's flag); how many it marked. */
export async function resolveSessionErrors(rpc: SupabaseRpc, sessionId: string): Promise<number> {
  const done = await rpc.call<{ resolved: number } | null>("sync_hubspot_errors_resolve", { p_session_id: sessionId });
  if (!done) throw new NotFoundError(`no sync session ${sessionId}`);
  return Number(done.resolved);
}
