import { env } from "cloudflare:test";
import { postgresRpc } from "../../core/stores/supabase-postgres";
import type { HubSpotClient } from "../../producers/hubspot/client";
import { hubspotContactState } from "../../producers/hubspot/contact-row-state";
import { replayStores } from "../../src/services/entity-stores";
import { pg } from "./helpers";

/**
 * Replay's stores on the test's D1 and Postgres. HubSpot is the given client (a connection of the
 * test's own: the worker's wiring picks the newest connected portal, which other test files
 * sharing this Postgres change), or none connected.
 */
export function testReplayStores(hubspot: Pick<HubSpotClient, "batchRead"> | null = null) {
  return replayStores(env.DB, () => postgresRpc(pg()), { hubspot: () => hubspotContactState(async () => hubspot) });
}
