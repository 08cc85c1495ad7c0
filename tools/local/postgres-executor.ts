import postgres from "postgres";
import type { SqlExecutor } from "./supabase-migrations";

/** A SqlExecutor over postgres.js, for a real server (DATABASE_URL or the throwaway cluster). */
export function postgresExecutor(url: string): SqlExecutor & { sql: postgres.Sql; close(): Promise<void> } {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  return {
    sql,
    exec: (text) => sql.unsafe(text),
    query: async <T>(text: string, params: unknown[] = []) =>
      (await sql.unsafe(text, params as never[])) as unknown as T[],
    close: () => sql.end({ timeout: 5 }),
  };
}
