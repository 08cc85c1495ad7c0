import type postgres from "postgres";
import { pg } from "./helpers";

// The test Postgres is set up as a Supabase project is (migrations/dev/supabase_roles.sql): the API
// roles exist and default privileges grant them every new object in `public`. Tests act as each
// role the way PostgREST does (`set role` inside the request's transaction).

export type Role = "anon" | "authenticated" | "service_role";
export type Tx = postgres.TransactionSql;
const ROLLBACK = new Error("rollback");

/** Runs `fn` as `role` in a transaction that is always rolled back; returns its result or the SQLSTATE it failed with. */
export async function asRole<T>(
  role: Role,
  fn: (tx: Tx) => Promise<T>,
  opts: { claims?: object; setup?: (tx: Tx) => Promise<unknown> } = {},
) {
  let outcome: { ok: true; value: T } | { ok: false; code: string; message: string } | undefined;
  await pg()
    .begin(async (tx) => {
      await opts.setup?.(tx);
      if (opts.claims) await tx`select set_config('request.jwt.claims', ${JSON.stringify(opts.claims)}, true)`;
      await tx.unsafe(`set local role ${role}`);
      try {
        outcome = { ok: true, value: await fn(tx) };
      } catch (error) {
        const e = error as { code?: string; message: string };
        outcome = { ok: false, code: e.code ?? "?", message: e.message };
      }
      throw ROLLBACK;
    })
    .catch((error) => {
      if (error !== ROLLBACK) throw error;
    });
  return outcome!;
}
