import type { Env } from "../env";
import { TransientError } from "../../core/errors";
import { readSettings } from "../../core/settings";
import type { HubSpotOAuth } from "../services/hubspot-connection";

/**
 * The HubSpot app as configured: client id (var) and secret (secret), HubSpot's hosts (settings;
 * `npm run dev` points them at its stand-in). Unset credentials refuse with CONFIG_MISSING.
 */
export function hubspotOAuthFromEnv(env: Env): HubSpotOAuth {
  if (!env.HUBSPOT_CLIENT_ID || !env.HUBSPOT_CLIENT_SECRET) {
    throw new TransientError(
      "CONFIG_MISSING",
      "connecting HubSpot needs HUBSPOT_CLIENT_ID (var) and HUBSPOT_CLIENT_SECRET (secret): README, Connecting a HubSpot portal",
    );
  }
  const settings = readSettings(env);
  return {
    app: { clientId: env.HUBSPOT_CLIENT_ID, clientSecret: env.HUBSPOT_CLIENT_SECRET },
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
