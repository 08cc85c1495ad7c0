import { Hono } from "hono";
import {
  listHubSpotContactsQuery,
  listHubSpotSessionsQuery,
  sessionIdParam,
  startHubSpotSyncBody,
} from "../../../schemas/hubspot-api";
import { resolveSessionErrorsBody } from "../../../schemas/operator-api";
import { resolveSessionErrorsAs } from "../../services/hubspot-errors";
import { startHubSpotSyncAs } from "../../services/hubspot-sync";
import {
  hubspotSyncStatus,
  listHubSpotContacts,
  listHubSpotSessions,
  publicSession,
} from "../../services/hubspot-views";
import { hubspotSyncDeps } from "../../wiring/hubspot-sync-deps";
import { adminAuth } from "../admin-auth";
import type { AppEnv } from "../context";
import { ok } from "../envelope";
import { operatorOf } from "../operator";
import { parseRequest, readBody, readQuery } from "../read-json";

/**
 * The HubSpot sync for operators: contacts as Supabase holds them, starting a sync (a full one runs
 * in steps through the control queue and answers 202 at once; an incremental one runs within the
 * request), the latest session with its progress, and the sessions.
 */
export const hubspotSyncRoutes = new Hono<AppEnv>()
  .use("*", adminAuth())
  .get("/contacts", async (c) =>
    ok(c, await listHubSpotContacts(c.get("deps").supabase(), readQuery(c, listHubSpotContactsQuery))),
  )
  .post("/sync", async (c) => {
    const actor = operatorOf(c);
    const { full } = await readBody(c, startHubSpotSyncBody);
    const deps = c.get("deps");
    const session = await startHubSpotSyncAs({ ...hubspotSyncDeps(c.env, deps), db: deps.db }, { full }, actor);
    return ok(c, { session: publicSession(session) }, full ? 202 : 200);
  })
  .get("/sync/status", async (c) => ok(c, await hubspotSyncStatus(c.get("deps").supabase())))
  .get("/sessions", async (c) =>
    ok(c, await listHubSpotSessions(c.get("deps").supabase(), readQuery(c, listHubSpotSessionsQuery))),
  )
  // Marks the session's error lines resolved (seed 002's error_logs.resolved), audited.
  .post("/sessions/:id/errors/resolve", async (c) => {
    const actor = operatorOf(c);
    const id = parseRequest(sessionIdParam, c.req.param("id"));
    const { reason } = await readBody(c, resolveSessionErrorsBody);
    const { db, supabase } = c.get("deps");
    return ok(c, await resolveSessionErrorsAs({ rpc: supabase(), db }, id, { reason, actor }));
  });
