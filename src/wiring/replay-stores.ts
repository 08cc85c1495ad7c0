import type { Env } from "../env";
import { hubspotContactState } from "../../producers/hubspot/contact-row-state";
import { replayStores } from "../services/entity-stores";
import type { ReplayStores } from "../services/replay-decide";
import type { WorkerDeps } from "./deps";
import { hubspotBuckets, hubspotFromEnv } from "./hubspot";

/**
 * The stores replay reads in the worker: D1 and Supabase from the request's dependencies, and
 * HubSpot (for the entities it owns) through the connected portal's client, sharing the portal's
 * rate budget with the sync. HubSpot is connected only when a HubSpot-owned row is read.
 */
export function workerReplayStores(env: Env, deps: Pick<WorkerDeps, "db" | "supabase" | "settings">): ReplayStores {
  const hubspot = () =>
    hubspotContactState(async () => {
      const wiring = await hubspotFromEnv(env, {
        rpc: deps.supabase(),
        db: deps.db,
        buckets: hubspotBuckets(deps.settings),
      });
      return wiring?.client ?? null;
    });
  return replayStores(deps.db, deps.supabase, { hubspot });
}
