import { ConflictError, describe } from "../../core/errors";
import {
  completeSession,
  createSession,
  failSession,
  getSession,
  recordProgress,
  startSession,
  type SyncSession,
} from "../../core/hubspot/sessions";
import { errorLine, pageLog, writeSessionLog, type RefusedContact } from "../../core/hubspot/session-log";
import type { SupabaseRpc } from "../../core/stores/supabase-rpc";
import type { HubSpotContact } from "../../producers/hubspot/contact";
import { contactsModifiedBetween, incrementalWindow } from "../../producers/hubspot/modified-contacts";
import { contactEvents, publishContactEvents } from "../../producers/hubspot-contacts";
import type { QueueBindings } from "../../producers/publish";
import type { HubSpotWiring } from "../wiring/hubspot";
import { auditStatement, type Actor } from "./audit";

/** What the control queue carries for a full sync: "go on with session X". */
export interface HubSpotSyncTick {
  kind: "hubspot-sync";
  session_id: string;
}

export interface HubSpotSyncDeps {
  rpc: SupabaseRpc;
  queues: QueueBindings;
  /** The connected portal's client, or null when none is connected (src/wiring/hubspot.ts). */
  hubspot: () => Promise<HubSpotWiring | null>;
  /** Queues the next step of a full sync (a control-queue tick). */
  kick: (sessionId: string, delaySeconds?: number) => Promise<void>;
  now?: () => number;
}

export interface StepOptions {
  /** Pages (of 100) read per step: bounded so one invocation stays well inside a Worker's limits. */
  pagesPerStep?: number;
}

export const DEFAULT_PAGES_PER_STEP = 50;
/**
 * A step's lease, renewed before every page: a runner that died holds the session at most this
 * long. A page slower than this (HubSpot retries) may let a second runner in; that only costs
 * requests, since pages are queued before their cursor is recorded and progress never goes back.
 */
const LEASE_SECONDS = 30;
/** The cursor of the full sync's second phase, the archived contacts (prefix + HubSpot's cursor). */
const ARCHIVED_PHASE = "archived:";

/**
 * Starts a sync session for the connected portal: a full sync (every contact, in steps continued
 * by the control queue) or an incremental one (run here, now). A second session while one is
 * pending or running is refused with SESSION_ALREADY_ACTIVE.
 */
export async function startHubSpotSync(
  deps: HubSpotSyncDeps,
  opts: { full: boolean; sessionId?: string },
): Promise<SyncSession> {
  const hubspot = await deps.hubspot();
  if (!hubspot) throw new ConflictError("HUBSPOT_NOT_CONNECTED", "no HubSpot portal is connected: connect one first");
  const session = await createSession(deps.rpc, {
    sessionId: opts.sessionId ?? `${opts.full ? "full" : "incremental"}-${new Date(now(deps)).toISOString()}`,
    type: opts.full ? "full" : "incremental",
    connectionId: hubspot.connection.id,
  });
  if (opts.full) {
    await deps.kick(session.id);
    return session;
  }
  return runIncremental(deps, hubspot, session);
}

/**
 * An operator starts a sync (the API, the CLI, the console): the sync, then its audit line. The
 * session lives in Supabase and the audit trail in D1, so they cannot commit together; the line
 * is written once the session exists, so a refused start (none connected, one already running)
 * leaves none. The cron's own syncs are not operator actions and are not audited.
 */
export async function startHubSpotSyncAs(
  deps: HubSpotSyncDeps & { db: D1Database },
  opts: { full: boolean },
  actor: Actor,
): Promise<SyncSession> {
  const session = await startHubSpotSync(deps, opts);
  await auditStatement(deps.db, {
    actor,
    action: "hubspot-sync",
    target_type: "hubspot-connection",
    target_id: session.connection_id ?? "none",
    selection: { full: opts.full },
    result: { session: session.id, status: session.status },
  }).run();
  return session;
}

/**
 * One bounded step of a full sync: up to `pagesPerStep` pages from the recorded cursor, each page's
 * events queued before the session records the page's cursor, so a crash anywhere re-reads from
 * the last recorded page (its events are queued again: derived event ids and the version rule
 * make that harmless). Live contacts first, then the archived ones (tombstones for contacts
 * deleted while no webhook reached us). Returns what the caller should do next.
 */
export async function runFullSyncStep(
  deps: HubSpotSyncDeps,
  sessionId: string,
  opts: StepOptions = {},
): Promise<{ next: "continue" | "done" | "busy" }> {
  const holder = crypto.randomUUID();
  const lease = sessionLease(deps.rpc, sessionId, holder);
  if (!(await lease())) {
    const session = await getSession(deps.rpc, sessionId);
    // Over (completed / failed): nothing to do. Otherwise another step holds it and continues.
    return { next: session.status === "pending" || session.status === "running" ? "busy" : "done" };
  }
  let session = await getSession(deps.rpc, sessionId);
  try {
    if (session.status === "pending") session = await startSession(deps.rpc, sessionId);
    const hubspot = await deps.hubspot();
    if (!hubspot || hubspot.connection.id !== session.connection_id) {
      const gone = new ConflictError("HUBSPOT_NOT_CONNECTED", "the HubSpot connection is no longer connected");
      await failSession(deps.rpc, sessionId, gone.message, {}, { errors: [errorLine(gone, { step: "start" })] });
      return { next: "done" };
    }
    let records = session.records_count;
    let errors = session.error_count;
    let archived = session.archived_count;
    let cursor = session.after_cursor;
    for (let page = 0; page < (opts.pagesPerStep ?? DEFAULT_PAGES_PER_STEP); page++) {
      if (page > 0 && !(await lease())) return { next: "busy" };
      const phaseArchived = cursor?.startsWith(ARCHIVED_PHASE) ?? false;
      const after = phaseArchived ? cursor!.slice(ARCHIVED_PHASE.length) || undefined : (cursor ?? undefined);
      const read = await hubspot.client.listContacts({ after, archived: phaseArchived });
      const published = await publish(deps, read.results);
      errors += published.refused.length;
      if (phaseArchived) archived += read.results.length;
      else records += read.results.length;
      const next = read.paging?.next?.after;
      // The page's log lines ride on the progress (or completion) call below: one round trip.
      const log = pageLog({
        id: `${phaseArchived ? "archived" : "live"}:${after ?? "start"}`,
        read: read.results.length,
        archived: phaseArchived ? read.results.length : 0,
        ...published,
        next: next ?? null,
      });
      if (!next && phaseArchived) {
        // The high-water mark is the session's start: a contact changed after its page was read
        // is newer than the start, so the first incremental run (with its overlap) reads it.
        const startMs = Date.parse(session.start_time!);
        await completeSession(
          deps.rpc,
          sessionId,
          {
            records_count: records,
            error_count: errors,
            archived_count: archived,
            after: null,
            high_water_mark: new Date(startMs).toISOString(),
          },
          log,
        );
        return { next: "done" };
      }
      cursor = next ? (phaseArchived ? ARCHIVED_PHASE + next : next) : ARCHIVED_PHASE;
      await recordProgress(
        deps.rpc,
        sessionId,
        { records_count: records, error_count: errors, archived_count: archived, after: cursor },
        log,
      );
    }
    return { next: "continue" };
  } catch (error) {
    const info = describe(error);
    const logged = { errors: [errorLine(error, { step: "full", step_from: session.after_cursor })] };
    // HubSpot down or throttling beyond the client's retries, Supabase or the queue unavailable:
    // the next tick (or the cron) goes on from the recorded cursor. A refusal is the end.
    if (info.retryable) {
      await writeSessionLog(deps.rpc, sessionId, logged);
      throw error;
    }
    await failSession(deps.rpc, sessionId, `${info.code}: ${info.message}`, {}, logged).catch(() => undefined);
    return { next: "done" };
  } finally {
    await deps.rpc.call("sync_hubspot_session_release", { p_id: sessionId, p_holder: holder }).catch(() => undefined);
  }
}

/**
 * An incremental run, whole: contacts modified in [high-water mark − overlap, now] through search
 * (read by narrowing the window, so neither the 10,000-result ceiling nor rows moving during the
 * read hide one), then the archived contacts archived since the window's start (search never
 * returns archived contacts). The new high-water mark (the window's end) is stored by completing
 * the session, after every event was queued; a failure leaves the mark, and the next run reads
 * the same window again.
 */
export async function runIncremental(
  deps: HubSpotSyncDeps,
  hubspot: HubSpotWiring,
  session: SyncSession,
  opts: { overlapMs?: number } = {},
): Promise<SyncSession> {
  const counts = { records_count: 0, error_count: 0, archived_count: 0 };
  // Held while the run lives (renewed per page): a run that died (its cron invocation ended) is
  // told apart by its expired lease, and the cron fails the session so the next run can start.
  const lease = sessionLease(deps.rpc, session.id, crypto.randomUUID());
  try {
    await lease();
    await startSession(deps.rpc, session.id);
    const mark = await deps.rpc.call<number | null>("sync_hubspot_high_water_mark", {
      p_connection_id: hubspot.connection.id,
    });
    const { fromMs, toMs } = incrementalWindow(Number(mark ?? 0), now(deps), opts.overlapMs);
    let pageNo = 0;
    for await (const page of contactsModifiedBetween(hubspot.client, fromMs, toMs)) {
      const published = await publish(deps, page);
      counts.error_count += published.refused.length;
      counts.records_count += page.length;
      const id = `search:${fromMs}-${toMs}#${++pageNo}`;
      await recordProgress(
        deps.rpc,
        session.id,
        counts,
        pageLog({ id, read: page.length, archived: 0, ...published, next: null }),
      );
      await lease();
    }
    let after: string | undefined;
    do {
      const read = await hubspot.client.listContacts({ after, archived: true });
      // The archived list has no time filter (HubSpot keeps archived contacts 90 days): only the
      // ones archived inside the window are news.
      const recent = read.results.filter((c) => Date.parse(c.archivedAt ?? c.updatedAt) >= fromMs);
      const published = await publish(deps, recent);
      counts.error_count += published.refused.length;
      counts.archived_count += recent.length;
      const next = read.paging?.next?.after ?? null;
      const log = pageLog({
        id: `archived:${after ?? "start"}`,
        read: read.results.length,
        archived: recent.length,
        ...published,
        next,
      });
      // The page's log lines ride on a progress call: one round trip per 100 archived contacts
      // listed, which also shows the operator the run moving through them.
      await recordProgress(deps.rpc, session.id, counts, log);
      await lease();
      after = next ?? undefined;
    } while (after);
    return await completeSession(deps.rpc, session.id, {
      ...counts,
      high_water_mark: new Date(toMs).toISOString(),
    });
  } catch (error) {
    const info = describe(error);
    const logged = { errors: [errorLine(error, { step: "incremental" })] };
    await failSession(deps.rpc, session.id, `${info.code}: ${info.message}`, counts, logged).catch(() => undefined);
    throw error;
  }
}

/**
 * The cron's part: keep a full sync going whose tick was lost (its lease expired), start the
 * first full sync of a newly connected portal, and otherwise run an incremental sync once the
 * last one is `intervalMs` old. Nothing when no portal is connected.
 */
export async function hubspotCron(
  deps: HubSpotSyncDeps,
  opts: { intervalMs: number },
): Promise<Record<string, unknown>> {
  const hubspot = await deps.hubspot();
  if (!hubspot) return { skipped: "no HubSpot portal connected" };
  const active = await deps.rpc.call<(SyncSession & { lease_until: string | null }) | null>(
    "sync_hubspot_session_active",
    { p_connection_id: hubspot.connection.id },
  );
  if (active) {
    const leaseFree = !active.lease_until || Date.parse(active.lease_until) < now(deps);
    if (active.type === "full" && leaseFree) await deps.kick(active.id);
    // An incremental run lives in one invocation: with its lease expired (and not just created),
    // that invocation is gone. Failing the session frees the portal; the next cron run reads the
    // same window again (the mark did not move).
    const idleMs = now(deps) - Date.parse(active.updated_at);
    if (active.type === "incremental" && leaseFree && idleMs > LEASE_SECONDS * 1000) {
      await failSession(deps.rpc, active.id, "abandoned: the run holding it stopped before it completed");
      return { abandoned: active.id };
    }
    return { active: active.id, kicked: active.type === "full" && leaseFree };
  }
  // A failed run is retried at the same pace as a completed one is followed.
  const [last] = await deps.rpc.call<SyncSession[]>("sync_hubspot_sessions_list", { p_limit: 1, p_before: null });
  if (last && now(deps) - Date.parse(last.created_at) < opts.intervalMs) return { waiting: true };
  const mark = await deps.rpc.call<number | null>("sync_hubspot_high_water_mark", {
    p_connection_id: hubspot.connection.id,
  });
  if (mark === null) return { started: (await startHubSpotSync(deps, { full: true })).id };
  const session = await startHubSpotSync(deps, { full: false });
  return { incremental: session.id, records: session.records_count, archived: session.archived_count };
}

/** Takes or renews a session's lease for `holder`: false when another holder has it or it is over. */
function sessionLease(rpc: SupabaseRpc, sessionId: string, holder: string) {
  return () =>
    rpc.call<boolean>("sync_hubspot_session_lease", { p_id: sessionId, p_holder: holder, p_seconds: LEASE_SECONDS });
}

/** Queues a page's events (and its refused contacts' dead letters); what was queued and what refused. */
async function publish(
  deps: HubSpotSyncDeps,
  contacts: HubSpotContact[],
): Promise<{ queued: number; refused: RefusedContact[] }> {
  if (contacts.length === 0) return { queued: 0, refused: [] };
  const made = await contactEvents(contacts, "hubspot-sync");
  await publishContactEvents(deps.queues, made);
  return {
    queued: made.events.length,
    refused: made.failures.map((f) => ({
      hubspotId: f.hubspotId,
      code: f.letter.error.code,
      message: f.letter.error.message,
    })),
  };
}

const now = (deps: HubSpotSyncDeps) => (deps.now ?? Date.now)();
