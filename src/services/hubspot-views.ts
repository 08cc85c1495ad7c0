import type { Connection } from "../../core/hubspot/connections";
import type { SyncSession } from "../../core/hubspot/sessions";
import type { SupabaseRpc } from "../../core/stores/supabase-rpc";

/** The operator's view of the HubSpot sync: the connection (never its tokens) and the latest session. */
export async function hubspotSyncStatus(rpc: SupabaseRpc) {
  const connection = await rpc.call<Connection | null>("sync_hubspot_connection_latest", {});
  const [latest] = await rpc.call<SyncSession[]>("sync_hubspot_sessions_list", { p_limit: 1, p_before: null });
  const highWaterMs = connection
    ? await rpc.call<number | null>("sync_hubspot_high_water_mark", { p_connection_id: connection.id })
    : null;
  return {
    connection,
    session: latest ? publicSession(latest) : null,
    high_water_mark: highWaterMs === null ? null : new Date(Number(highWaterMs)).toISOString(),
  };
}

export async function listHubSpotSessions(rpc: SupabaseRpc, q: { before?: string; limit: number }) {
  const items = await rpc.call<SyncSession[]>("sync_hubspot_sessions_list", {
    p_limit: q.limit,
    p_before: q.before ?? null,
  });
  return { items: items.map(publicSession), next_before: items.length === q.limit ? items.at(-1)!.created_at : null };
}

export async function listHubSpotContacts(
  rpc: SupabaseRpc,
  q: { email?: string; sync_status?: string; updated_since?: string; after?: string; limit: number },
) {
  const items = await rpc.call<Array<{ id: string }>>("sync_hubspot_contacts_list", { p: q });
  return { items, next_after: items.length === q.limit ? items.at(-1)!.id : null };
}

/** A session without its lease bookkeeping. */
export function publicSession(s: SyncSession & { lease_holder?: unknown; lease_until?: unknown }) {
  const { lease_holder: _h, lease_until: _u, ...rest } = s;
  return rest;
}
