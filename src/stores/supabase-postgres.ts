import postgres from "postgres";
import { classifyPgError } from "./pg-errors";
import { SUPABASE_FUNCTIONS, type SupabaseFunction, type SupabaseRpc } from "./supabase-rpc";

export type Sql = postgres.Sql;

/** A postgres.js client for Hyperdrive (or any Postgres URL). One per request or batch. */
export function connectPostgres(connectionString: string): Sql {
  // fetch_types: false avoids a catalogue round trip per connection; Hyperdrive pools for us.
  return postgres(connectionString, { max: 5, fetch_types: false, connect_timeout: 10, idle_timeout: 5 });
}

/** Transport 1: direct SQL — `select public.fn(arg => $1::type, …) as result`. */
export function postgresRpc(sql: Sql): SupabaseRpc {
  return {
    async call<T>(fn: SupabaseFunction, args: Record<string, unknown>): Promise<T> {
      const signature: Record<string, string> = SUPABASE_FUNCTIONS[fn];
      const names = Object.keys(signature);
      const params = names.map((n) => {
        const v = args[n];
        // postgres.js serialises jsonb parameters itself: pass the value, not a JSON string.
        return v as postgres.ParameterOrJSON<never>;
      });
      const list = names.map((n, i) => `${n} => $${i + 1}::${signature[n]}`).join(", ");
      try {
        const rows = await sql.unsafe(`select public.${fn}(${list}) as result`, params as never[]);
        return rows[0]!.result as T;
      } catch (error) {
        throw classifyPgError(error);
      }
    },
  };
}
