import type { TestProject } from "vitest/node";
import { postgresExecutor } from "../tools/local/postgres-executor";
import { scratchDatabase } from "../tools/local/scratch-database";
import { applySupabaseMigrations } from "../tools/local/supabase-migrations";
import { applySupabaseRoles } from "../tools/local/supabase-roles";
import { startHubSpotStandIn, type HubSpotStandIn } from "../tools/local/hubspot-standin";

const EXHAUSTED_ROLE = "sds_test_exhausted";

type StandInInfo = { url: string; clientId: string; clientSecret: string; portalId: number };

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    /** A HubSpot stand-in (tools/local/hubspot-standin.ts) the worker reaches over HTTP. */
    hubspot: StandInInfo;
    hubspotConsole: StandInInfo;
    hubspotReplay: StandInInfo;
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
  // HubSpot stand-ins, one per test file that connects (each connect test file changes its
  // portal's connection: sharing one would race), each with a portal id of its own so their
  // connections never meet another test's rows in the shared Postgres. Each serves the /_standin/
  // controls (tools/local/hubspot/control-routes.ts): tests in workerd cannot hold the object.
  const standIns: HubSpotStandIn[] = [];
  for (const name of ["hubspot", "hubspotConsole", "hubspotReplay"] as const) {
    const portalId = 70_000_000 + Math.floor(Math.random() * 1_000_000);
    const standIn = await startHubSpotStandIn({ portalId, controlRoutes: true });
    standIns.push(standIn);
    project.provide(name, {
      url: standIn.url,
      clientId: standIn.clientId,
      clientSecret: standIn.clientSecret,
      portalId,
    });
  }
  return async () => {
    for (const standIn of standIns) await standIn.stop();
    await database.drop();
    if (process.env.DATABASE_URL) {
      const admin = postgresExecutor(process.env.DATABASE_URL);
      await admin.exec(`drop role if exists ${EXHAUSTED_ROLE}`).catch(() => {});
      await admin.close();
    }
  };
}
