import type { Env } from "../env";
import { readSettings } from "../../core/settings";
import type { HubSpotOAuth } from "../services/hubspot-connection";
import { hubspotOAuthApp } from "./hubspot";

/**
 * The HubSpot app for connecting a portal: client id and secret (CONFIG_MISSING when unset),
 * HubSpot's API and authorize-page hosts (settings; `npm run dev` points them at its stand-in).
 */
export function hubspotOAuthFromEnv(env: Env): HubSpotOAuth {
  const { clientId, clientSecret } = hubspotOAuthApp(env);
  const settings = readSettings(env);
  return {
    app: { clientId, clientSecret },
    authorizeUrl: `${settings.HUBSPOT_AUTH_BASE}/oauth/authorize`,
    http: {
      fetch: (input, init) => fetch(input, init),
      clock: { now: () => Date.now() },
      baseUrl: settings.HUBSPOT_API_BASE,
    },
  };
}

/**
 * Where HubSpot sends the operator back: this worker's callback, on the host the connect was
 * started on (the HubSpot app must list it as its redirect URL).
 */
export const callbackUrl = (requestUrl: string) => `${new URL(requestUrl).origin}/v1/hubspot/callback`;
