import type { z } from "zod";
import type { hubspotDisconnectedSchema } from "../../schemas/hubspot/connection";
import { describe, NotFoundError, ValidationError } from "../../core/errors";
import {
  listConnections,
  moveConnection,
  readConnectionTokens,
  saveConnection,
  type Connection,
  type ConnectionDeps,
} from "../../core/hubspot/connections";
import type { ClientInfo } from "../../core/hubspot/audit-log";
import { consumeState, issueState } from "../../core/hubspot/oauth-states";
import type { TokenKeyring } from "../../core/hubspot/token-cipher";
import type { SupabaseRpc } from "../../core/stores/supabase-rpc";
import {
  authorizationUrl,
  exchangeCode,
  revokeRefreshToken,
  type OAuthApp,
  type OAuthDeps,
  type Revocation,
} from "../../producers/hubspot/oauth";
import { accessTokenInfo } from "../../producers/hubspot/token-info";
import { auditStatement, type Actor } from "./audit";

/**
 * Connecting a HubSpot portal (OAuth authorization code flow) and disconnecting it. The routes
 * (src/http/routes/hubspot-connect.ts) and the console call these with what the wiring built.
 */

/**
 * What the sync reads: contacts. `oauth` is required of every app installed with OAuth (HubSpot's
 * scope list); the HubSpot app's settings must require exactly these (README).
 */
export const HUBSPOT_SCOPES = ["oauth", "crm.objects.contacts.read"];

export interface HubSpotOAuth {
  /** Without redirectUri: it is the callback URL of the request that starts the connect. */
  app: Omit<OAuthApp, "redirectUri">;
  /** `<HUBSPOT_AUTH_BASE>/oauth/authorize`. */
  authorizeUrl: string;
  /** Token endpoints at HUBSPOT_API_BASE. */
  http: OAuthDeps;
}

/** The HubSpot page to send the operator to: its state is recorded, signed and single use. */
export async function startConnect(
  db: D1Database,
  oauth: HubSpotOAuth,
  input: { actor: Actor; redirectUri: string; now: Date },
): Promise<string> {
  const state = await issueState(db, oauth.app.clientSecret, {
    actor: input.actor.name,
    auth: input.actor.auth,
    tokenId: input.actor.tokenId,
    redirectUri: input.redirectUri,
    now: input.now,
  });
  return authorizationUrl({ ...oauth.app, redirectUri: input.redirectUri }, HUBSPOT_SCOPES, state, oauth.authorizeUrl);
}

export interface CallbackQuery {
  code?: string;
  state?: string;
  /** HubSpot's redirect when the user declined or the app is refused: `error` (+ `error_description`). */
  error?: string;
  error_description?: string;
}

/**
 * HubSpot's redirect back. In order, each refusal leaving nothing saved: the state (forged,
 * reused, expired: core/hubspot/oauth-states.ts) is consumed first, so a code can be tried once
 * per connect; a declined authorization; the code exchange (HUBSPOT_AUTH_FAILED when HubSpot
 * refuses it); the token's portal. Then the tokens are saved sealed and the connect is audited
 * with the operator who started it.
 */
export async function finishConnect(
  deps: ConnectionDeps & { db: D1Database },
  oauth: HubSpotOAuth,
  query: CallbackQuery,
  now: Date,
  client: ClientInfo = { ip: null, userAgent: null },
): Promise<Connection> {
  const started = await consumeState(deps.db, oauth.app.clientSecret, query.state, now);
  if (query.error) {
    const why = query.error_description ? `${query.error}: ${query.error_description}` : query.error;
    throw new ValidationError("HUBSPOT_AUTH_DECLINED", `HubSpot did not authorize the app (${why.slice(0, 300)})`);
  }
  if (!query.code) throw new ValidationError("HUBSPOT_AUTH_DECLINED", "HubSpot redirected back without a code");

  const tokens = await exchangeCode(oauth.http, { ...oauth.app, redirectUri: started.redirectUri }, query.code);
  const info = await accessTokenInfo(oauth.http, tokens.accessToken);
  const existing = (await listConnections(deps.rpc)).find((c) => Number(c.portal_id) === info.hubId);
  // A disconnected portal comes back through pending (its status machine); any other status may
  // go straight to connected.
  if (existing?.status === "disconnected") await moveConnection(deps.rpc, existing.id, "pending");
  // Saved with its hubspot_audit_logs line in one transaction: both or neither.
  const connection = await saveConnection(deps, {
    portalId: info.hubId,
    scopes: info.scopes.length > 0 ? info.scopes : HUBSPOT_SCOPES,
    tokens: { ...tokens, expiresAt: new Date(tokens.expiresAt).toISOString() },
    audit: { userId: started.actor, client },
  });
  // D1's operator_audit is another database: written after the save, so it never claims a
  // connection that failed. An error here leaves a connected portal without this line only
  // (Supabase's line is there); connecting again writes it.
  await auditStatement(deps.db, {
    actor: { name: started.actor, auth: started.auth as Actor["auth"], tokenId: started.tokenId },
    action: "hubspot-connect",
    target_type: "hubspot-connection",
    target_id: connection.id,
    selection: { portal_id: info.hubId, hub_domain: info.hubDomain },
    result: { status: connection.status, scopes: connection.scopes, was: existing?.status ?? null },
  }).run();
  return connection;
}

/** What revoking at HubSpot needs: the token keys (to open the refresh token) and HubSpot's host. */
export interface RevokeDeps {
  ring: () => Promise<TokenKeyring>;
  http: Omit<OAuthDeps, "clock">;
}

/** The route's answer (hubspotDisconnectedSchema): `revoke_error` says why HubSpot did not revoke. */
export type Disconnected = { connection: Connection } & Omit<z.infer<typeof hubspotDisconnectedSchema>, "connection">;

/**
 * Disconnects a portal: its tokens are erased (the status machine's `disconnected`), then its
 * refresh token is deleted at HubSpot, and both are audited with the reason. `portalId` may be
 * left out when exactly one portal is not disconnected.
 *
 * The erasure comes first and does not wait on HubSpot: whatever HubSpot answers (down, 404, a
 * token our keys cannot open), the portal is disconnected here, and the answer says whether
 * HubSpot revoked. A crash between the two leaves the token alive at HubSpot but gone from
 * here; revoking first would instead leave a connected row holding a dead token.
 */
export async function disconnect(
  deps: { db: D1Database; rpc: SupabaseRpc } & RevokeDeps,
  input: { actor: Actor; reason: string; portalId?: number; client?: ClientInfo },
): Promise<Disconnected> {
  const all = await listConnections(deps.rpc);
  const candidates = all.filter((c) =>
    input.portalId === undefined ? c.status !== "disconnected" : Number(c.portal_id) === input.portalId,
  );
  if (candidates.length === 0)
    throw new NotFoundError(
      input.portalId === undefined
        ? "no HubSpot portal is connected"
        : `no HubSpot connection for portal ${input.portalId}`,
    );
  if (candidates.length > 1)
    throw new ValidationError(
      "INVALID_REQUEST",
      `${candidates.length} HubSpot portals are connected: name one with portal_id (${candidates.map((c) => c.portal_id).join(", ")})`,
    );
  const was = candidates[0]!;
  const held = await heldRefreshToken(deps, was);
  const connection = await moveConnection(deps.rpc, was.id, "disconnected", null, {
    userId: input.actor.name,
    client: input.client ?? { ip: null, userAgent: null },
  });
  const revocation: Revocation =
    "token" in held ? await revokeRefreshToken(deps.http, held.token) : { revoked: false, reason: held.reason };
  const revoke_error = revocation.revoked ? null : revocation.reason;
  await auditStatement(deps.db, {
    actor: input.actor,
    action: "hubspot-disconnect",
    reason: input.reason,
    target_type: "hubspot-connection",
    target_id: connection.id,
    selection: { portal_id: Number(connection.portal_id) },
    result: { status: connection.status, was: was.status, revoked: revocation.revoked, revoke_error },
  }).run();
  return { connection, revoked: revocation.revoked, revoke_error };
}

/** The refresh token the connection holds, opened; or why there is none to revoke. */
async function heldRefreshToken(
  deps: { rpc: SupabaseRpc } & RevokeDeps,
  was: Connection,
): Promise<{ token: string } | { reason: string }> {
  try {
    const { tokens } = await readConnectionTokens({ rpc: deps.rpc, ring: await deps.ring() }, was.id);
    return tokens ? { token: tokens.refreshToken } : { reason: `the connection held no tokens (it was ${was.status})` };
  } catch (error) {
    const { code, message } = describe(error);
    return { reason: `its refresh token could not be opened, so HubSpot was not asked (${code}: ${message})` };
  }
}

/** The connection to show: the newest that is not disconnected, else the newest; and all of them. */
export async function connectionStatus(
  rpc: SupabaseRpc,
): Promise<{ connection: Connection | null; connections: Connection[] }> {
  const connections = await listConnections(rpc);
  return {
    connection: connections.find((c) => c.status !== "disconnected") ?? connections[0] ?? null,
    connections,
  };
}
