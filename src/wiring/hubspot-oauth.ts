import type { Env } from "../env";
import { readSettings } from "../../core/settings";
import type { OAuthDeps } from "../../producers/hubspot/oauth";
import type { HubSpotOAuth, RevokeDeps } from "../services/hubspot-connection";
import { hubspotKeyring, hubspotOAuthApp } from "./hubspot";

/**
 * The HubSpot app for connecting a portal: client id and secret (CONFIG_MISSING when unset),
 * HubSpot's API and authorize-page hosts (settings; `npm run dev` points them at its stand-in).
 */
export function hubspotOAuthFromEnv(env: Env): HubSpotOAuth {
  const { clientId, clientSecret } = hubspotOAuthApp(env);
  return {
    app: { clientId, clientSecret },
    authorizeUrl: `${readSettings(env).HUBSPOT_AUTH_BASE}/oauth/authorize`,
    http: hubspotHttp(env),
  };
}

/** HubSpot's OAuth endpoints at HUBSPOT_API_BASE, on real time. */
const hubspotHttp = (env: Env): OAuthDeps => ({
  fetch: (input, init) => fetch(input, init),
  clock: { now: () => Date.now() },
  baseUrl: readSettings(env).HUBSPOT_API_BASE,
});

/**
 * What a disconnect needs to revoke at HubSpot: the token keys, read only when a token is opened
 * (unset or broken keys are a reason not to revoke, never a reason not to disconnect), and
 * HubSpot's host. Deleting a refresh token needs no client credentials.
 */
export function hubspotRevokeFromEnv(env: Env): RevokeDeps {
  return { ring: () => hubspotKeyring(env), http: hubspotHttp(env) };
}

/**
 * Where HubSpot sends the operator back: this worker's callback, on the host the connect was
 * started on (the HubSpot app must list it as its redirect URL).
 */
export const callbackUrl = (requestUrl: string) => `${new URL(requestUrl).origin}/v1/hubspot/callback`;
