import type { Env } from "../env";
import { TransientError } from "../../core/errors";
import { connectPostgres, postgresRpc } from "../../core/stores/supabase-postgres";
import { connectRest, restRpc } from "../../core/stores/supabase-rest";
import type { SupabaseRpc } from "../../core/stores/supabase-rpc";

/**
 * Picks the transport from configuration. Missing configuration is reported as transient: messages
 * wait in the queue until an operator fixes it, instead of being dead-lettered.
 */
// No sql.end(): the Workers runtime closes a request's sockets when the request ends (as in
// Cloudflare's Hyperdrive examples), and ending them explicitly raced with that teardown
// ("Stream was cancelled").
export function supabaseFromEnv(env: Env): SupabaseRpc {
  if (env.SUPABASE_TRANSPORT === "rest") {
    if (!env.SUPABASE_URL || !env.SUPABASE_SERVICE_ROLE_KEY) {
      throw new TransientError(
        "CONFIG_MISSING",
        "SUPABASE_TRANSPORT=rest needs SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY",
      );
    }
    return restRpc(connectRest(env.SUPABASE_URL, env.SUPABASE_SERVICE_ROLE_KEY));
  }
  if (!env.HYPERDRIVE)
    throw new TransientError("CONFIG_MISSING", "no HYPERDRIVE binding and SUPABASE_TRANSPORT is not rest");
  return postgresRpc(connectPostgres(env.HYPERDRIVE.connectionString));
}
