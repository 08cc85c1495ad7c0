import type { TestProject } from "vitest/node";
import { postgresExecutor } from "../src/local/postgres-executor";
import { applySupabaseMigrations } from "../src/local/supabase-migrations";
import { startThrowawayPostgres } from "../src/local/throwaway-postgres";

const EXHAUSTED_ROLE = "sds_test_exhausted";

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
  // A role that can never get a connection ("too many connections", SQLSTATE 53300): how the
  // tests make Supabase transiently unavailable on a real server.
  await db.exec(`do $$ begin create role ${EXHAUSTED_ROLE} login password 'exhausted' connection limit 0;
                 exception when duplicate_object then null; end $$`);
  await db.close();
  const inner = teardown;
  teardown = async () => {
    if (process.env.DATABASE_URL) {
      const admin = postgresExecutor(process.env.DATABASE_URL);
      await inner();
      await admin.exec(`drop role if exists ${EXHAUSTED_ROLE}`).catch(() => {});
      await admin.close();
    } else await inner();
  };
  project.provide("databaseUrl", url);
  return teardown;
}
