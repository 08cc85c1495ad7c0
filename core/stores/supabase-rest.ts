import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { classifyPgError } from "./pg-errors";
import type { SupabaseFunction, SupabaseRpc } from "./supabase-rpc";

/** Transport 2: supabase-js `.rpc()` over PostgREST with the service-role key. */
export function restRpc(client: SupabaseClient): SupabaseRpc {
  return {
    async call<T>(fn: SupabaseFunction, args: Record<string, unknown>): Promise<T> {
      let result: Awaited<ReturnType<SupabaseClient["rpc"]>>;
      try {
        result = await client.rpc(fn, args);
      } catch (error) {
        throw classifyPgError(error); // fetch itself failed
      }
      if (result.error) throw classifyPgError({ ...result.error, status: result.status });
      return result.data as T;
    },
  };
}

export function connectRest(url: string, serviceRoleKey: string, fetchImpl?: typeof fetch): SupabaseClient {
  return createClient(url, serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    global: fetchImpl ? { fetch: fetchImpl } : undefined,
  });
}
