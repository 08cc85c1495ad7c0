import type { Env } from "../env";
import type { HubSpotSyncDeps } from "../services/hubspot-sync";
import type { WorkerDeps } from "./deps";
import { hubspotBuckets, hubspotFromEnv, type HubSpotWiring } from "./hubspot";

/** The full sync's continuation: one control-queue tick. A lost tick is picked up by the cron. */
export async function kickHubSpotSync(control: Queue, sessionId: string, delaySeconds = 0): Promise<void> {
  await control.send({ kind: "hubspot-sync", session_id: sessionId }, { contentType: "json", delaySeconds });
}

/** The HubSpot sync's dependencies for one request, batch or cron run (the client built once, on first use). */
export function hubspotSyncDeps(env: Env, deps: WorkerDeps): HubSpotSyncDeps {
  let wiring: Promise<HubSpotWiring | null> | undefined;
  const buckets = hubspotBuckets(deps.settings);
  return {
    rpc: deps.supabase(),
    queues: deps.queues,
    hubspot: () => (wiring ??= hubspotFromEnv(env, { rpc: deps.supabase(), db: deps.db, buckets })),
    kick: (sessionId, delaySeconds) => kickHubSpotSync(deps.control, sessionId, delaySeconds),
  };
}
