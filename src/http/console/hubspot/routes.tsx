/** @jsxImportSource hono/jsx */
import { Hono } from "hono";
import { hubspotDisconnectBody, resolveSessionErrorsBody } from "../../../../schemas/operator-api";
import { SyncError } from "../../../../core/errors";
import { getSession, recentSessions } from "../../../../core/hubspot/sessions";
import { sessionErrors, sessionLogs } from "../../../../core/hubspot/session-log";
import { recentEvents } from "../../../../core/hubspot/sync-events";
import { sessionIdParam, sessionLogsQuery } from "../../../../schemas/hubspot-api";
import { connectionStatus, disconnect } from "../../../services/hubspot-connection";
import { resolveSessionErrorsAs } from "../../../services/hubspot-errors";
import { startHubSpotSyncAs } from "../../../services/hubspot-sync";
import { hubspotRevokeFromEnv } from "../../../wiring/hubspot-oauth";
import { hubspotSyncDeps } from "../../../wiring/hubspot-sync-deps";
import type { AppContext, AppEnv } from "../../context";
import { parseRequest, readQuery } from "../../read-json";
import { hubspotEventStream } from "../../routes/hubspot-events";
import { clientOf, connectUrl } from "../../routes/hubspot-connect";
import { consoleActor } from "../actor";
import { readForm } from "../form";
import { fragmentOrRefusal, pageOrRefusal, refusalOf, refusalStatus } from "../refusal";
import { EventItems, FEED_SIZE } from "./event-feed";
import { HubSpotPage, SessionsTable } from "./page";
import { LOG_LINES_PER_PAGE, SessionDetailPage } from "./session-page";

const PAGE = "/console/hubspot";

/**
 * /console/hubspot: the connection in words, Connect (to HubSpot's authorize page, through the
 * same startConnect as GET /v1/hubspot/connect), Disconnect with a reason, and the sync sessions
 * as a live fragment. `error`/`reason`: a refused action shown again with what was typed.
 */
async function page(c: AppContext, extra: { notice?: string; error?: SyncError; reason?: string } = {}) {
  const rpc = c.get("deps").supabase();
  const [status, sessions, events] = await Promise.all([
    connectionStatus(rpc),
    recentSessions(rpc, 20),
    recentEvents(rpc, FEED_SIZE),
  ]);
  const html = (
    <HubSpotPage
      session={c.get("consoleSession")!}
      connection={status.connection}
      connections={status.connections}
      sessions={sessions}
      events={events}
      {...extra}
    />
  );
  return c.html(html, extra.error ? refusalStatus(extra.error) : 200);
}

export const hubspotConsole = new Hono<AppEnv>()
  .get("/", (c) => {
    const q = c.req.query();
    const notice = q.connected
      ? `HubSpot portal ${q.connected} connected.`
      : q.disconnected
        ? `HubSpot portal ${q.disconnected} disconnected; its tokens were erased here${
            q.revoked === "1"
              ? " and its refresh token revoked at HubSpot."
              : ". HubSpot did not confirm revoking its refresh token (the audit line says why): remove the app's access in the portal's settings if it matters."
          }`
        : q.started
          ? `Sync session ${q.started} started; its progress is below.`
          : undefined;
    return page(c, { notice });
  })
  // A link, not a form: a form's redirect to HubSpot would be blocked by the CSP's form-action
  // 'self'. Only a signed-in operator reaches it (the session cookie is SameSite=Strict).
  .get("/connect", async (c) => {
    try {
      return c.redirect(await connectUrl(c, consoleActor(c.get("consoleSession")!)), 302);
    } catch (error) {
      return page(c, { error: refusalOf(error) });
    }
  })
  .post("/disconnect", async (c) => {
    const form = await readForm(c);
    try {
      const body = parseRequest(hubspotDisconnectBody, { reason: form.reason, portal_id: form.portal_id || undefined });
      const { db, supabase } = c.get("deps");
      const { connection: done, revoked } = await disconnect(
        { db, rpc: supabase(), ...hubspotRevokeFromEnv(c.env) },
        {
          actor: consoleActor(c.get("consoleSession")!),
          reason: body.reason,
          portalId: body.portal_id,
          client: clientOf(c),
        },
      );
      const portal = encodeURIComponent(String(done.portal_id));
      return c.redirect(`${PAGE}?disconnected=${portal}&revoked=${revoked ? 1 : 0}`, 303);
    } catch (error) {
      return page(c, { error: refusalOf(error), reason: form.reason });
    }
  })
  // Sync now (incremental, run within this request) or Full sync (continued in steps by the
  // control queue): the same startHubSpotSync as POST /v1/hubspot/sync. A second sync while one is
  // in flight is refused (SESSION_ALREADY_ACTIVE), as is a sync with no connected portal.
  .post("/sync", async (c) => {
    const form = await readForm(c);
    const full = form.full === "true";
    try {
      const deps = c.get("deps");
      const actor = consoleActor(c.get("consoleSession")!);
      const session = await startHubSpotSyncAs({ ...hubspotSyncDeps(c.env, deps), db: deps.db }, { full }, actor);
      return c.redirect(`${PAGE}?started=${encodeURIComponent(session.session_id)}`, 303);
    } catch (error) {
      return page(c, { error: refusalOf(error) });
    }
  })
  .get("/live/sessions", (c) =>
    fragmentOrRefusal(c, async () => <SessionsTable sessions={await recentSessions(c.get("deps").supabase(), 20)} />),
  )
  // The event feed: server-sent events for EventSource (the API's handler, under the console's
  // session), and the same feed as a fragment for the page's fallback polling.
  .get("/events", hubspotEventStream)
  .get("/live/events", (c) =>
    fragmentOrRefusal(c, async () => (
      <EventItems items={(await recentEvents(c.get("deps").supabase(), FEED_SIZE)).items} />
    )),
  )
  // One session, its log lines and its errors, each paged by its own cursor.
  .get("/sessions/:id", (c) => {
    const resolved = c.req.query("resolved");
    const notice = /^\d{1,9}$/.test(resolved ?? "") ? `${resolved} error(s) marked resolved.` : undefined;
    return pageOrRefusal(c, SESSION_WHERE, () => sessionPage(c, { notice }));
  })
  // Marks the session's errors resolved: the same service and schema as the API's route, audited.
  .post("/sessions/:id/errors/resolve", async (c) => {
    const form = await readForm(c);
    try {
      const id = parseRequest(sessionIdParam, c.req.param("id"));
      const { reason } = parseRequest(resolveSessionErrorsBody, { reason: form.reason });
      const { db, supabase } = c.get("deps");
      const done = await resolveSessionErrorsAs({ rpc: supabase(), db }, id, {
        reason,
        actor: consoleActor(c.get("consoleSession")!),
      });
      return c.redirect(`${PAGE}/sessions/${id}?resolved=${done.resolved}#session-errors`, 303);
    } catch (e) {
      const error = refusalOf(e);
      return pageOrRefusal(
        c,
        SESSION_WHERE,
        () => sessionPage(c, { error, reason: form.reason }),
        refusalStatus(error),
      );
    }
  });

async function sessionPage(c: AppContext, extra: { notice?: string; error?: SyncError; reason?: string }) {
  const at = readQuery(c, sessionLogsQuery);
  const id = parseRequest(sessionIdParam, c.req.param("id"));
  const rpc = c.get("deps").supabase();
  const [sync, logs, errors] = await Promise.all([
    getSession(rpc, id),
    sessionLogs(rpc, id, { after: at.logs_after, limit: LOG_LINES_PER_PAGE }),
    sessionErrors(rpc, id, { after: at.errors_after, limit: LOG_LINES_PER_PAGE }),
  ]);
  return (
    <SessionDetailPage session={c.get("consoleSession")!} sync={sync} logs={logs} errors={errors} at={at} {...extra} />
  );
}

const SESSION_WHERE = {
  title: "Sync session",
  section: "hubspot",
  back: { href: PAGE, label: "← HubSpot" },
} as const;
