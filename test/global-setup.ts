import type { TestProject } from "vitest/node";
import { postgresExecutor } from "../src/local/postgres-executor";
import { applySupabaseMigrations } from "../src/local/supabase-migrations";
import { startThrowawayPostgres } from "../src/local/throwaway-postgres";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

/**
 * A real Postgres for the whole run: with DATABASE_URL, a fresh database created on that server
 * (and dropped afterwards, so the user's data is never touched); otherwise a throwaway cluster.
 */
export default async function setup(project: TestProject) {
  let url: string;
  let teardown: () => Promise<void>;
  if (process.env.DATABASE_URL) {
    const admin = postgresExecutor(process.env.DATABASE_URL);
    const name = `sds_test_${Date.now()}_${process.pid}`;
    await admin.exec(`create database ${name}`);
    const u = new URL(process.env.DATABASE_URL);
    u.pathname = `/${name}`;
    if (!u.password) u.password = "postgres";
    url = u.toString();
    teardown = async () => {
      await admin.exec(`drop database if exists ${name} with (force)`);
      await admin.close();
    };
  } else {
    const pg = await startThrowawayPostgres();
    url = pg.url;
    teardown = async () => pg.stop();
  }
  const db = postgresExecutor(url);
  await applySupabaseMigrations(db);
  await db.close();
  project.provide("databaseUrl", url);
  return teardown;
}
