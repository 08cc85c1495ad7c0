import { TransientError, ValidationError } from "../../core/errors";
import type { Clock } from "./rate-budget";

/**
 * HubSpot OAuth v1 (developers.hubspot.com, "OAuth tokens" v1 guide): POST /oauth/v1/token,
 * form-encoded, grant_type `authorization_code` (with code and redirect_uri) or `refresh_token`;
 * the answer is `{ access_token, refresh_token, expires_in, token_type }`, expires_in in seconds
 * (1800: access tokens live 30 minutes since the change announced in HubSpot's changelog).
 */
export interface HubSpotTokens {
  accessToken: string;
  refreshToken: string;
  /** When the access token expires, ms since the epoch (our clock when it was issued + expires_in). */
  expiresAt: number;
}

export interface OAuthApp {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

/** Where a connection's tokens live (encrypted at rest by the storage side); read and written here. */
export interface TokenStore {
  load(): Promise<HubSpotTokens>;
  save(tokens: HubSpotTokens): Promise<void>;
}

export interface OAuthDeps {
  fetch: typeof fetch;
  clock: Pick<Clock, "now">;
  /** https://api.hubapi.com, or the local stand-in. */
  baseUrl: string;
}

/** Refresh this long before expiry, so a token cannot expire between our check and HubSpot's. */
export const REFRESH_MARGIN_MS = 5 * 60 * 1000;

/** Where HubSpot's users approve the app (app.hubspot.com in production; the stand-in serves it too). */
export const HUBSPOT_AUTHORIZE_URL = "https://app.hubspot.com/oauth/authorize";

/**
 * The install link: HubSpot redirects to `redirectUri` with `code` and the `state` given, which the
 * caller must make unguessable and single use (it is what ties the callback to the connect request).
 */
export function authorizationUrl(app: OAuthApp, scopes: string[], state: string, base = HUBSPOT_AUTHORIZE_URL): string {
  const query = new URLSearchParams({
    client_id: app.clientId,
    redirect_uri: app.redirectUri,
    scope: scopes.join(" "),
    state,
  });
  return `${base}?${query}`;
}

export function exchangeCode(deps: OAuthDeps, app: OAuthApp, code: string): Promise<HubSpotTokens> {
  return tokenRequest(deps, app, { grant_type: "authorization_code", code, redirect_uri: app.redirectUri });
}

export function refreshTokens(deps: OAuthDeps, app: OAuthApp, refreshToken: string): Promise<HubSpotTokens> {
  return tokenRequest(deps, app, { grant_type: "refresh_token", refresh_token: refreshToken });
}

async function tokenRequest(deps: OAuthDeps, app: OAuthApp, grant: Record<string, string>): Promise<HubSpotTokens> {
  const body = new URLSearchParams({ ...grant, client_id: app.clientId, client_secret: app.clientSecret });
  let res: Response;
  try {
    res = await deps.fetch(`${deps.baseUrl}/oauth/v1/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
    });
  } catch (cause) {
    throw new TransientError("HUBSPOT_UNAVAILABLE", "HubSpot's token endpoint could not be reached", cause);
  }
  const text = await res.text();
  if (res.status === 429 || res.status >= 500) {
    throw new TransientError("HUBSPOT_UNAVAILABLE", `HubSpot's token endpoint answered ${res.status}`, text);
  }
  const json = parseJson(text) as Partial<Record<string, unknown>> | null;
  if (!res.ok || typeof json?.access_token !== "string") {
    // 400 BAD_AUTH_CODE / BAD_REFRESH_TOKEN, 401 bad client secret: the connection must be redone.
    const reason = typeof json?.message === "string" ? json.message : text.slice(0, 200);
    throw new ValidationError(
      "HUBSPOT_AUTH_FAILED",
      `HubSpot refused the ${grant.grant_type} grant (${res.status}): ${reason}`,
    );
  }
  const expiresIn = Number(json.expires_in);
  return {
    accessToken: json.access_token,
    // A refresh answer may omit refresh_token; the one we sent stays valid then.
    refreshToken: typeof json.refresh_token === "string" ? json.refresh_token : (grant.refresh_token ?? ""),
    expiresAt: deps.clock.now() + (Number.isFinite(expiresIn) ? expiresIn : 1800) * 1000,
  };
}

/** What HubSpot said to a revocation: done, or why not. */
export type Revocation = { revoked: true } | { revoked: false; reason: string };

/**
 * Deletes a refresh token at HubSpot (developers.hubspot.com OAuth v1 "Delete a refresh token":
 * `DELETE /oauth/v1/refresh-tokens/:token`, no credentials, 204 without a body; 404 for a token
 * HubSpot does not know). HubSpot deletes only the refresh token: access tokens it issued work
 * until they expire (30 minutes at most), and the app stays installed in the portal. Never throws:
 * a disconnect goes ahead whatever HubSpot answers, and reports the answer.
 */
export async function revokeRefreshToken(deps: Omit<OAuthDeps, "clock">, refreshToken: string): Promise<Revocation> {
  let res: Response;
  try {
    res = await deps.fetch(`${deps.baseUrl}/oauth/v1/refresh-tokens/${encodeURIComponent(refreshToken)}`, {
      method: "DELETE",
    });
  } catch (cause) {
    return { revoked: false, reason: `HubSpot could not be reached (${String(cause).slice(0, 200)})` };
  }
  const text = await res.text().catch(() => "");
  if (res.ok) return { revoked: true };
  if (res.status === 404)
    return {
      revoked: false,
      reason: "HubSpot does not know this refresh token (404): revoked already, or the app was uninstalled",
    };
  const json = parseJson(text) as { message?: unknown } | null;
  const said = typeof json?.message === "string" ? json.message : text;
  return { revoked: false, reason: `HubSpot answered ${res.status}${said ? `: ${said.slice(0, 200)}` : ""}` };
}

/** The access token a request should carry, refreshed when close to expiry or refused by HubSpot. */
export interface AccessTokens {
  current(): Promise<string>;
  /** After a 401 with `refused`: a token another consumer saved since, else a refreshed one. */
  renew(refused: string): Promise<string>;
}

export function oauthSession(
  deps: OAuthDeps,
  app: OAuthApp,
  store: TokenStore,
  marginMs = REFRESH_MARGIN_MS,
): AccessTokens {
  let cached: HubSpotTokens | undefined;
  // One refresh at a time in this isolate: concurrent requests that find the token stale share it.
  let refreshing: Promise<HubSpotTokens> | undefined;

  const fresh = (t: HubSpotTokens) => t.expiresAt - marginMs > deps.clock.now();
  const refresh = (from: HubSpotTokens) =>
    (refreshing ??= (async () => {
      try {
        const next = await refreshTokens(deps, app, from.refreshToken);
        await store.save(next);
        cached = next;
        return next;
      } finally {
        refreshing = undefined;
      }
    })());

  return {
    async current() {
      cached ??= await store.load();
      return (fresh(cached) ? cached : await refresh(cached)).accessToken;
    },
    async renew(refused) {
      // Another isolate may have refreshed already; refreshing again would replace its token.
      const stored = await store.load();
      if (stored.accessToken !== refused && fresh(stored)) return (cached = stored).accessToken;
      return (await refresh(stored)).accessToken;
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
