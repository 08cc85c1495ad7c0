import { createHash } from "node:crypto";
import { startHubSpotStandIn, type HubSpotStandIn } from "./hubspot-standin";

/**
 * HubSpot for `npm run dev`. With HUBSPOT_CLIENT_ID in the environment, a real HubSpot app: its
 * id, secret and token keys are passed to the worker as they are. Without, the local stand-in is
 * started in this process with a seeded portal, and the worker is pointed at it for both the API
 * and the authorize page, so "Connect" in the console works offline.
 */
export interface DevHubSpot {
  /** Worker vars: the HubSpot app, its hosts, the token keys. */
  vars: Record<string, string>;
  standIn?: HubSpotStandIn;
  stop(): Promise<void>;
}

/**
 * The dev token key, the same on every run (derived, not random) so the connection kept in
 * .dev/pglite still opens after a restart. Dev only: a deployment puts its own random keys.
 */
const DEV_TOKEN_KEYS = `dev:${createHash("sha256").update("supabase-d1-sync dev HubSpot token key").digest("base64")}`;

export async function startDevHubSpot(env: NodeJS.ProcessEnv): Promise<DevHubSpot> {
  const tokenKeys = env.HUBSPOT_TOKEN_KEYS || DEV_TOKEN_KEYS;
  if (env.HUBSPOT_CLIENT_ID) {
    const vars: Record<string, string> = { HUBSPOT_CLIENT_ID: env.HUBSPOT_CLIENT_ID, HUBSPOT_TOKEN_KEYS: tokenKeys };
    for (const name of ["HUBSPOT_CLIENT_SECRET", "HUBSPOT_API_BASE", "HUBSPOT_AUTH_BASE"] as const) {
      if (env[name]) vars[name] = env[name];
    }
    return { vars, stop: async () => {} };
  }
  const standIn = await startHubSpotStandIn({ port: Number(env.HUBSPOT_STANDIN_PORT ?? 8790) });
  standIn.portal.generate(Number(env.HUBSPOT_STANDIN_CONTACTS ?? 300));
  return {
    standIn,
    vars: {
      HUBSPOT_CLIENT_ID: standIn.clientId,
      HUBSPOT_CLIENT_SECRET: standIn.clientSecret,
      HUBSPOT_API_BASE: standIn.url,
      HUBSPOT_AUTH_BASE: standIn.url,
      HUBSPOT_TOKEN_KEYS: tokenKeys,
    },
    stop: () => standIn.stop(),
  };
}
