import type { Env } from "../env";
import { ConflictError, describe, TransientError } from "../../core/errors";
import { moveConnection, readConnectionTokens, saveConnection, type Connection } from "../../core/hubspot/connections";
import { parseTokenKeys, type TokenKeyring } from "../../core/hubspot/token-cipher";
import { SETTINGS, type Settings } from "../../core/settings";
import type { SupabaseRpc } from "../../core/stores/supabase-rpc";
import { hubspotClient, type HubSpotClient } from "../../producers/hubspot/client";
import { d1RateBudget } from "../../producers/hubspot/d1-rate-budget";
import { oauthSession, type AccessTokens, type OAuthApp, type TokenStore } from "../../producers/hubspot/oauth";
import {
  bucketFor,
  DEFAULT_BUCKETS,
  type BucketSpec,
  type Clock,
  type RateKind,
} from "../../producers/hubspot/rate-budget";
import type { RetryOptions } from "../../producers/hubspot/request";

/** Real time: what the worker runs on (tests hand in their own). */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
};

export interface HubSpotWiringDeps {
  rpc: SupabaseRpc;
  db: D1Database;
  fetch?: typeof fetch;
  clock?: Clock;
  /** Overrides of the shared budget's buckets (tests); default DEFAULT_BUCKETS. */
  buckets?: Record<RateKind, BucketSpec>;
  retry?: Partial<RetryOptions>;
}

export interface HubSpotWiring {
  /** The connected portal (without its tokens). */
  connection: Connection;
  client: HubSpotClient;
  tokens: AccessTokens;
}

/** The shared budget's buckets with the general one at HUBSPOT_RATE_LIMIT requests / 10 s. */
export const hubspotBuckets = (settings: Settings): Record<RateKind, BucketSpec> => ({
  ...DEFAULT_BUCKETS,
  general: bucketFor(settings.HUBSPOT_RATE_LIMIT, 10_000),
});

/** HubSpot's API base: HUBSPOT_API_BASE, or api.hubapi.com. */
export const hubspotApiBase = (env: Env) => SETTINGS.HUBSPOT_API_BASE.read(env.HUBSPOT_API_BASE);

/**
 * The app's OAuth credentials. The redirect URI matters only to the authorization-code exchange
 * (the connect callback passes its own); a refresh does not send it.
 */
export function hubspotOAuthApp(env: Env, redirectUri = ""): OAuthApp {
  if (!env.HUBSPOT_CLIENT_ID || !env.HUBSPOT_CLIENT_SECRET)
    throw new TransientError("CONFIG_MISSING", "HubSpot needs HUBSPOT_CLIENT_ID and the HUBSPOT_CLIENT_SECRET secret");
  return { clientId: env.HUBSPOT_CLIENT_ID, clientSecret: env.HUBSPOT_CLIENT_SECRET, redirectUri };
}

/** The token keyring from HUBSPOT_TOKEN_KEYS (CONFIG_MISSING / TOKEN_KEYS_INVALID otherwise). */
export const hubspotKeyring = (env: Env): Promise<TokenKeyring> => parseTokenKeys(env.HUBSPOT_TOKEN_KEYS);

/**
 * The HubSpot client for the one connected portal (README "HubSpot sync": one portal per
 * deployment), or null when none is connected (not connected yet, disconnected, or in error after
 * a failed refresh: reconnecting is an operator's move, so the sync waits rather than retries).
 *
 * Tokens are read from and saved to the connection row, sealed (core/hubspot/connections.ts);
 * every request takes a token from the portal's D1 budget, shared by every isolate, queue batch
 * and cron run. A refresh HubSpot refuses moves the connection to `error` with the reason.
 */
export async function hubspotFromEnv(env: Env, deps: HubSpotWiringDeps): Promise<HubSpotWiring | null> {
  const row = await deps.rpc.call<Connection | null>("sync_hubspot_connection_current", {});
  if (!row) return null;
  const { access_token: _a, refresh_token: _r, ...connection } = row as Connection & Record<string, unknown>;
  // Awaited here: returned as is, a promise already rejected (CONFIG_MISSING) was reported as an
  // unhandled rejection in workerd before the caller's await took it (seen in the workers tests).
  return await hubspotForConnection(env, deps, connection);
}

/** The client of one given connection (hubspotFromEnv picks the current one; tests name theirs). */
export async function hubspotForConnection(
  env: Env,
  deps: HubSpotWiringDeps,
  connection: Connection,
): Promise<HubSpotWiring> {
  const app = hubspotOAuthApp(env);
  const ring = await hubspotKeyring(env);
  const fetchImpl = deps.fetch ?? ((input, init) => fetch(input, init));
  const clock = deps.clock ?? systemClock;
  const baseUrl = hubspotApiBase(env);
  const store = connectionTokenStore({ rpc: deps.rpc, ring }, connection);
  const tokens = markErrorOnRefusal(
    deps.rpc,
    connection,
    oauthSession({ fetch: fetchImpl, clock, baseUrl }, app, store),
  );
  const budget = d1RateBudget(deps.db, String(connection.portal_id), clock, deps.buckets);
  const client = hubspotClient({ fetch: fetchImpl, clock, budget, tokens, baseUrl, retry: deps.retry });
  return { connection, client, tokens };
}

/** The connection row as the OAuth session's token store: sealed at rest, opened on load. */
export function connectionTokenStore(
  deps: { rpc: SupabaseRpc; ring: TokenKeyring },
  connection: Pick<Connection, "id" | "portal_id" | "scopes">,
): TokenStore {
  return {
    async load() {
      const { connection: now, tokens } = await readConnectionTokens(deps, connection.id);
      if (!tokens || now.status !== "connected")
        throw new ConflictError(
          "HUBSPOT_NOT_CONNECTED",
          `HubSpot portal ${connection.portal_id} is ${now.status}: connect it again`,
        );
      return {
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken,
        expiresAt: Date.parse(tokens.expiresAt),
      };
    },
    async save(tokens) {
      await saveConnection(deps, {
        portalId: connection.portal_id,
        scopes: connection.scopes,
        tokens: { ...tokens, expiresAt: new Date(tokens.expiresAt).toISOString() },
      });
    },
  };
}

/**
 * HubSpot refusing our refresh token (HUBSPOT_AUTH_FAILED) is not something a retry fixes: the
 * connection goes to `error` with HubSpot's reason, which status pages show, and the sync stops
 * until an operator reconnects. The failure is logged for the alerting that watches the logs
 * (core/ledger/alerts.ts carries failure groups only).
 */
function markErrorOnRefusal(rpc: SupabaseRpc, connection: Connection, tokens: AccessTokens): AccessTokens {
  const guard = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      const info = describe(error);
      if (info.code === "HUBSPOT_AUTH_FAILED") {
        console.error(
          JSON.stringify({ msg: "hubspot connection error", portal: connection.portal_id, reason: info.message }),
        );
        try {
          await moveConnection(rpc, connection.id, "error", info.message);
        } catch (moveError) {
          console.error(JSON.stringify({ msg: "hubspot connection not marked", error: String(moveError) }));
        }
      }
      throw error;
    }
  };
  return { current: () => guard(() => tokens.current()), renew: (refused) => guard(() => tokens.renew(refused)) };
}
