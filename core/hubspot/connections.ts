import { ConflictError, describe, NotFoundError } from "../errors";
import type { SupabaseRpc } from "../stores/supabase-rpc";
import { connectionMachine, type ConnectionStatus } from "../../schemas/hubspot/connection";
import { auditArgument, type ConnectionAudit } from "./audit-log";
import { openToken, sealToken, type SealedToken, type TokenKeyring } from "./token-cipher";

/** A HubSpot connection as the worker sees it: never the tokens, only whether it holds them. */
export interface Connection {
  id: string;
  portal_id: number;
  scopes: string[];
  status: ConnectionStatus;
  token_key_id: string | null;
  expires_at: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

export interface ConnectionTokens {
  accessToken: string;
  refreshToken: string;
  /** When the access token expires (ISO 8601). */
  expiresAt: string;
}

/** A connection row as the SQL functions return it: sealed tokens as base64. */
interface StoredConnection extends Connection {
  access_token: { ciphertext: string; iv: string } | null;
  refresh_token: { ciphertext: string; iv: string } | null;
}

export interface ConnectionDeps {
  rpc: SupabaseRpc;
  ring: TokenKeyring;
}

type TokenField = "access_token" | "refresh_token";

// The associated data binds a ciphertext to its portal and column (token-cipher.ts).
const context = (portalId: number | string, field: TokenField) => `hubspot_connections:${portalId}:${field}`;

/**
 * Stores a portal's tokens after an authorization or a refresh, sealed under the newest key, and
 * marks the connection connected. Only ciphertext, iv and key id reach the database.
 */
export async function saveConnection(
  deps: ConnectionDeps,
  input: { portalId: number; scopes: string[]; tokens: ConnectionTokens; audit?: ConnectionAudit },
): Promise<Connection> {
  const [access, refresh] = await Promise.all([
    sealToken(deps.ring, input.tokens.accessToken, context(input.portalId, "access_token")),
    sealToken(deps.ring, input.tokens.refreshToken, context(input.portalId, "refresh_token")),
  ]);
  const p = {
    portal_id: input.portalId,
    scopes: input.scopes,
    token_key_id: deps.ring.newest,
    access_token: stored(access),
    refresh_token: stored(refresh),
    expires_at: input.tokens.expiresAt,
  };
  // An operator's connect is audited in the same transaction (migration 0017); a token refresh is not an operator's act.
  const row = input.audit
    ? await deps.rpc.call<StoredConnection>("sync_hubspot_connection_save_audited", {
        p,
        p_audit: auditArgument(input.audit),
      })
    : await deps.rpc.call<StoredConnection>("sync_hubspot_connection_save", { p });
  return publicView(row);
}

/** The connection and its tokens in clear, for the HubSpot client. */
export async function readConnectionTokens(
  deps: ConnectionDeps,
  id: string,
): Promise<{ connection: Connection; tokens: ConnectionTokens | null }> {
  const row = await deps.rpc.call<StoredConnection | null>("sync_hubspot_connection_get", { p_id: id });
  if (!row) throw new NotFoundError(`no HubSpot connection ${id}`);
  return { connection: publicView(row), tokens: await openBoth(deps.ring, row) };
}

/**
 * Moves a connection along its status machine: `error` when a token refresh fails (with why),
 * `disconnected` (its tokens are erased), `pending` when a new authorization starts. `connected`
 * is reached only by saveConnection, with tokens. A move the machine does not allow is refused
 * with INVALID_TRANSITION and the allowed moves; nothing is written. An operator's move (`audit`)
 * writes its hubspot_audit_logs line in the same transaction (migration 0017), a refused one none.
 */
export async function moveConnection(
  rpc: SupabaseRpc,
  id: string,
  to: Exclude<ConnectionStatus, "connected">,
  error: string | null = null,
  audit?: ConnectionAudit,
): Promise<Connection> {
  const args = { p_id: id, p_status: to, p_error: error };
  type Moved = { refused: boolean; connection: Connection } | null;
  const result = audit
    ? await rpc.call<Moved>("sync_hubspot_connection_move_audited", { ...args, p_audit: auditArgument(audit) })
    : await rpc.call<Moved>("sync_hubspot_connection_move", args);
  if (!result) throw new NotFoundError(`no HubSpot connection ${id}`);
  if (result.refused) {
    const from = result.connection.status;
    throw new ConflictError("INVALID_TRANSITION", `HubSpot connection ${id} cannot go from ${from} to ${to}`, {
      from,
      to,
      allowed: connectionMachine.transitions[from],
    });
  }
  return result.connection;
}

export interface RotationReport {
  /** Connections now sealed under the newest key. */
  resealed: number;
  /** Changed by someone else (a refresh) between read and write: already sealed anew, left alone. */
  raced: number;
  /** Connections whose tokens did not open, with the reason: the old key must stay until fixed. */
  failed: Array<{ id: string; code: string; message: string }>;
}

/**
 * Key rotation: re-seals every connection not sealed under the newest key. Each write is a
 * compare-and-set on the key id and ciphertext it read, so a token refresh racing with rotation
 * wins (its tokens are sealed under the newest key already). Safe to run again; once it reports
 * no `failed` and a second run finds nothing, the old key can be removed from HUBSPOT_TOKEN_KEYS.
 */
export async function rotateTokenKeys(deps: ConnectionDeps, opts: { pageSize?: number } = {}): Promise<RotationReport> {
  const report: RotationReport = { resealed: 0, raced: 0, failed: [] };
  let after: string | null = null;
  for (;;) {
    const page: StoredConnection[] = await deps.rpc.call<StoredConnection[]>(
      "sync_hubspot_connections_sealed_under_other",
      { p_key_id: deps.ring.newest, p_after: after, p_limit: opts.pageSize ?? 100 },
    );
    if (page.length === 0) return report;
    for (const row of page) {
      after = row.id;
      let tokens: ConnectionTokens | null;
      try {
        tokens = await openBoth(deps.ring, row);
      } catch (error) {
        const { code, message } = describe(error);
        report.failed.push({ id: row.id, code, message });
        continue;
      }
      if (!tokens) continue;
      const [access, refresh] = await Promise.all([
        sealToken(deps.ring, tokens.accessToken, context(row.portal_id, "access_token")),
        sealToken(deps.ring, tokens.refreshToken, context(row.portal_id, "refresh_token")),
      ]);
      const done = await deps.rpc.call<boolean>("sync_hubspot_connection_reseal", {
        p_id: row.id,
        p: {
          token_key_id: deps.ring.newest,
          expected_key_id: row.token_key_id,
          expected_access_ciphertext: row.access_token?.ciphertext ?? null,
          access_token: stored(access),
          refresh_token: stored(refresh),
        },
      });
      report[done ? "resealed" : "raced"]++;
    }
  }
}

async function openBoth(ring: TokenKeyring, row: StoredConnection): Promise<ConnectionTokens | null> {
  if (!row.access_token || !row.refresh_token || !row.token_key_id || !row.expires_at) return null;
  const sealed = (t: { ciphertext: string; iv: string }): SealedToken => ({ keyId: row.token_key_id!, ...t });
  const [accessToken, refreshToken] = await Promise.all([
    openToken(ring, sealed(row.access_token), context(row.portal_id, "access_token")),
    openToken(ring, sealed(row.refresh_token), context(row.portal_id, "refresh_token")),
  ]);
  return { accessToken, refreshToken, expiresAt: new Date(row.expires_at).toISOString() };
}

const stored = (t: SealedToken) => ({ ciphertext: t.ciphertext, iv: t.iv });

function publicView(row: StoredConnection): Connection {
  const { access_token: _a, refresh_token: _r, ...rest } = row;
  return rest;
}

/** Every connection without its tokens, most recently changed first (one row per portal). */
export function listConnections(rpc: SupabaseRpc): Promise<Connection[]> {
  return rpc.call<Connection[]>("sync_hubspot_connections_list", {});
}
