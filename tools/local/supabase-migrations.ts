import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/** The smallest database surface the migration runner needs: PGlite and postgres.js both fit. */
export interface SqlExecutor {
  exec(sql: string): Promise<unknown>;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

export const SUPABASE_MIGRATIONS_DIR = new URL("../../migrations/supabase/", import.meta.url).pathname;

/**
 * Applies migrations/supabase/*.sql in name order, each once, each in its own transaction, and
 * records them in sync.schema_migrations. Returns the names it applied.
 */
export async function applySupabaseMigrations(db: SqlExecutor, dir = SUPABASE_MIGRATIONS_DIR): Promise<string[]> {
  await db.exec(
    "create schema if not exists sync; " +
      "create table if not exists sync.schema_migrations (name text primary key, applied_at timestamptz not null default now())",
  );
  const done = new Set(
    (await db.query<{ name: string }>("select name from sync.schema_migrations")).map((r) => r.name),
  );
  const files = (await readdir(dir)).filter((f) => /^\d+_.*\.sql$/.test(f)).sort();
  const applied: string[] = [];
  for (const file of files) {
    if (done.has(file)) continue;
    const body = await readFile(join(dir, file), "utf8");
    await db.exec(
      `begin;\n${body}\n;insert into sync.schema_migrations (name) values ('${file.replaceAll("'", "''")}');\ncommit;`,
    );
    applied.push(file);
  }
  return applied;
}
