import { readFile } from "node:fs/promises";
import type { SqlExecutor } from "./supabase-migrations";

const ROLES_SQL = new URL("../../migrations/dev/supabase_roles.sql", import.meta.url).pathname;

/**
 * Makes a plain Postgres look like a Supabase project before the migrations run: the API roles
 * (anon, authenticated, service_role) and the default privileges that grant them every new object
 * in `public`. Without this the tests would meet friendlier defaults than production does (that is
 * how the CRM tables once shipped open to the anon key). A no-op where the roles exist.
 */
export async function applySupabaseRoles(db: SqlExecutor): Promise<void> {
  await db.exec(await readFile(ROLES_SQL, "utf8"));
}
