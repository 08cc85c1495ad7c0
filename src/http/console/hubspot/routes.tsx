/** @jsxImportSource hono/jsx */
import { Hono } from "hono";
import { hubspotDisconnectBody } from "../../../../schemas/operator-api";
import { SyncError } from "../../../../core/errors";
import { recentSessions } from "../../../../core/hubspot/sessions";
import { connectionStatus, disconnect } from "../../../services/hubspot-connection";
import { startHubSpotSyncAs } from "../../../services/hubspot-sync";
import { hubspotRevokeFromEnv } from "../../../wiring/hubspot-oauth";
import { hubspotSyncDeps } from "../../../wiring/hubspot-sync-deps";
import type { AppContext, AppEnv } from "../../context";
import { parseRequest } from "../../read-json";
import { clientOf, connectUrl } from "../../routes/hubspot-connect";
import { consoleActor } from "../actor";
import { readForm } from "../form";
import { fragmentOrRefusal, refusalOf, refusalStatus } from "../refusal";
import { HubSpotPage, SessionsTable } from "./page";

const PAGE = "/console/hubspot";

/**
 * /console/hubspot: the connection in words, Connect (to HubSpot's authorize page, through the
 * same startConnect as GET /v1/hubspot/connect), Disconnect with a reason, and the sync sessions
 * as a live fragment. `error`/`reason`: a refused action shown again with what was typed.
 */
async function page(c: AppContext, extra: { notice?: string; error?: SyncError; reason?: string } = {}) {
  const rpc = c.get("deps").supabase();
  const [status, sessions] = await Promise.all([connectionStatus(rpc), recentSessions(rpc, 20)]);
  const html = (
    <HubSpotPage
      session={c.get("consoleSession")!}
      connection={status.connection}
      connections={status.connections}
      sessions={sessions}
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
        ? `HubSpot portal ${q.disconnected} disconnected; its tokens were erased.`
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
      const { connection: done } = await disconnect(
        { db, rpc: supabase(), ...hubspotRevokeFromEnv(c.env) },
        {
          actor: consoleActor(c.get("consoleSession")!),
          reason: body.reason,
          portalId: body.portal_id,
          client: clientOf(c),
        },
      );
      return c.redirect(`${PAGE}?disconnected=${encodeURIComponent(String(done.portal_id))}`, 303);
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
  );
