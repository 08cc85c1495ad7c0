import type { Sql } from "postgres";
import { saveConnection } from "../../core/hubspot/connections";
import { parseTokenKeys } from "../../core/hubspot/token-cipher";
import { postgresRpc } from "../../core/stores/supabase-postgres";
import type { HubSpotStandIn } from "./hubspot-standin";

/**
 * The stand-in's portal connected as the connect flow leaves it: fresh tokens from the stand-in,
 * sealed under `tokenKeys` (the worker's HUBSPOT_TOKEN_KEYS) and stored in Supabase. For the
 * stack tests and the bench, which start a sync without clicking through OAuth.
 */
export async function connectStandInPortal(sql: Sql, standIn: HubSpotStandIn, tokenKeys: string): Promise<void> {
  const tokens = standIn.oauth.connect();
  await saveConnection(
    { rpc: postgresRpc(sql), ring: await parseTokenKeys(tokenKeys) },
    {
      portalId: standIn.portal.portalId,
      scopes: ["crm.objects.contacts.read"],
      tokens: { ...tokens, expiresAt: new Date(tokens.expiresAt).toISOString() },
    },
  );
}
