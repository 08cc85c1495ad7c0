import type { TestProject } from "vitest/node";
import { postgresExecutor } from "../tools/local/postgres-executor";
import { scratchDatabase } from "../tools/local/scratch-database";
import { applySupabaseMigrations } from "../tools/local/supabase-migrations";
import { applySupabaseRoles } from "../tools/local/supabase-roles";
import { startHubSpotStandIn } from "../tools/local/hubspot-standin";

const EXHAUSTED_ROLE = "sds_test_exhausted";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    /** A HubSpot stand-in (tools/local/hubspot-standin.ts) the worker reaches over HTTP. */
    hubspot: { url: string; clientId: string; clientSecret: string; portalId: number };
  }
}

/** A real Postgres for the whole run (see scratchDatabase), with Supabase's roles, migrated. */
export default async function setup(project: TestProject) {
  const database = await scratchDatabase("test");
  const db = postgresExecutor(database.url);
  try {
    await applySupabaseRoles(db);
    await applySupabaseMigrations(db);
    // A role that can never get a connection ("too many connections", SQLSTATE 53300): how the
    // tests make Supabase transiently unavailable on a real server.
    await db.exec(`do $$ begin create role ${EXHAUSTED_ROLE} login password 'exhausted' connection limit 0;
                   exception when duplicate_object then null; end $$`);
  } finally {
    await db.close();
  }
  project.provide("databaseUrl", database.url);
  // A portal id of its own, so the connections it makes never meet another test's rows.
  const portalId = 70_000_000 + Math.floor(Math.random() * 1_000_000);
  const hubspot = await startHubSpotStandIn({ portalId });
  project.provide("hubspot", {
    url: hubspot.url,
    clientId: hubspot.clientId,
    clientSecret: hubspot.clientSecret,
    portalId,
  });
  return async () => {
    await hubspot.stop();
    await database.drop();
    if (process.env.DATABASE_URL) {
      const admin = postgresExecutor(process.env.DATABASE_URL);
      await admin.exec(`drop role if exists ${EXHAUSTED_ROLE}`).catch(() => {});
      await admin.close();
    }
  };
}
