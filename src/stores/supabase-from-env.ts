import type { Env } from "../env";
import { TransientError } from "../lib/errors";
import { connectPostgres, postgresRpc } from "./supabase-postgres";
import { connectRest, restRpc } from "./supabase-rest";
import type { SupabaseRpc } from "./supabase-rpc";

export interface SupabaseConnection {
  rpc: SupabaseRpc;
  /** Releases the connection; pass to ctx.waitUntil so it does not delay the response. */
  close(): Promise<void>;
}

/**
 * Picks the transport from configuration. Missing configuration is reported as transient: messages
 * wait in the queue until an operator fixes it, instead of being dead-lettered.
 */
export function supabaseFromEnv(env: Env): SupabaseConnection {
  if (env.SUPABASE_TRANSPORT === "rest") {
    if (!env.SUPABASE_URL || !env.SUPABASE_SERVICE_ROLE_KEY) {
      throw new TransientError("CONFIG_MISSING", "SUPABASE_TRANSPORT=rest needs SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY");
    }
    return { rpc: restRpc(connectRest(env.SUPABASE_URL, env.SUPABASE_SERVICE_ROLE_KEY)), close: async () => {} };
  }
  if (!env.HYPERDRIVE) throw new TransientError("CONFIG_MISSING", "no HYPERDRIVE binding and SUPABASE_TRANSPORT is not rest");
  const sql = connectPostgres(env.HYPERDRIVE.connectionString);
  return { rpc: postgresRpc(sql), close: () => sql.end({ timeout: 1 }).catch(() => {}) };
}
