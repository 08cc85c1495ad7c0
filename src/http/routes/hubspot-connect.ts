import { Hono } from "hono";
import { hubspotDisconnectBody } from "../../../schemas/operator-api";
import { ForbiddenError } from "../../../core/errors";
import type { ClientInfo } from "../../../core/hubspot/audit-log";
import { parseTokenKeys } from "../../../core/hubspot/token-cipher";
import { connectionStatus, disconnect, finishConnect, startConnect } from "../../services/hubspot-connection";
import { callbackUrl, hubspotOAuthFromEnv, hubspotRevokeFromEnv } from "../../wiring/hubspot-oauth";
import { adminAuth } from "../admin-auth";
import { callbackDone, callbackRefused } from "../console/hubspot/callback-page";
import type { AppContext, AppEnv } from "../context";
import { ok } from "../envelope";
import { operatorOf } from "../operator";
import { readBody } from "../read-json";

/**
 * Connecting a HubSpot portal (README "Connecting a HubSpot portal"). adminAuth is put on each
 * route, not on the group: other HubSpot routes share the /v1/hubspot prefix, and the callback is
 * reached by the operator's browser coming back from HubSpot, with the signed state as its only
 * credential.
 */
export const hubspotConnectRoutes = new Hono<AppEnv>()
  // Starts a connect: 302 to HubSpot's authorize page. A change, though a GET (a browser follows
  // it), so REQUIRE_OPERATOR_TOKENS holds here as for POSTs.
  .get("/connect", adminAuth(), async (c) => {
    if (c.get("principal")?.auth === "admin-token" && c.get("deps").settings.REQUIRE_OPERATOR_TOKENS)
      throw new ForbiddenError(
        "OPERATOR_TOKEN_REQUIRED",
        "REQUIRE_OPERATOR_TOKENS is set: connecting HubSpot needs your own operator token",
      );
    return c.redirect(await connectUrl(c, operatorOf(c)), 302);
  })
  .get("/callback", async (c) => {
    try {
      const { db, supabase } = c.get("deps");
      const connection = await finishConnect(
        { db, rpc: supabase(), ring: await parseTokenKeys(c.env.HUBSPOT_TOKEN_KEYS) },
        hubspotOAuthFromEnv(c.env),
        c.req.query(),
        new Date(),
        clientOf(c),
      );
      return callbackDone(c, connection);
    } catch (error) {
      return callbackRefused(c, error);
    }
  })
  .post("/disconnect", adminAuth(), async (c) => {
    const actor = operatorOf(c);
    const body = await readBody(c, hubspotDisconnectBody);
    const { db, supabase } = c.get("deps");
    return ok(
      c,
      await disconnect(
        { db, rpc: supabase(), ...hubspotRevokeFromEnv(c.env) },
        { actor, reason: body.reason, portalId: body.portal_id, client: clientOf(c) },
      ),
    );
  })
  // Status only: the SQL function never returns a token, sealed or not.
  .get("/connection", adminAuth(), async (c) => ok(c, await connectionStatus(c.get("deps").supabase())));

/** HubSpot's authorize URL for a new connect by `actor` (also what the console's Connect button uses). */
export function connectUrl(c: AppContext, actor: Parameters<typeof startConnect>[2]["actor"]): Promise<string> {
  return startConnect(c.get("deps").db, hubspotOAuthFromEnv(c.env), {
    actor,
    redirectUri: callbackUrl(c.req.url),
    now: new Date(),
  });
}

/** Who is on the other end, for the seed's audit trail: Cloudflare's client IP and the user agent. */
export function clientOf(c: AppContext): ClientInfo {
  return { ip: c.req.header("cf-connecting-ip") ?? null, userAgent: c.req.header("user-agent") ?? null };
}
