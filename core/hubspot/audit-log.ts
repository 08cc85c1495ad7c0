import type { SupabaseRpc } from "../stores/supabase-rpc";
import type { Connection } from "./connections";

/** Where a request came from, for the seed's audit trail (Cloudflare's client IP, the user agent). */
export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

/**
 * A line of hubspot_audit_logs (seed 002's audit_logs) for a connection that was created or
 * changed by an operator. The connection is the public view: no token, sealed or not, is ever
 * written there. An IP that is not one is left out by the SQL function, not refused.
 */
export function auditConnection(
  rpc: SupabaseRpc,
  input: { before: Connection | null; after: Connection; userId: string; client: ClientInfo },
): Promise<void> {
  return rpc.call<void>("sync_hubspot_audit_write", {
    p: {
      entity_type: "hubspot_connection",
      entity_id: input.after.id,
      operation: input.before ? "update" : "create",
      old_data: input.before,
      new_data: input.after,
      user_id: input.userId,
      ip_address: input.client.ip,
      user_agent: input.client.userAgent?.slice(0, 500) ?? null,
    },
  });
}
