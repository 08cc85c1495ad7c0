import { mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { openLocalD1, type LocalD1 } from "../../tools/local/local-d1";
import { startPgNetRelay, type RelayFaults } from "../../tools/local/pg-net-relay";
import { postgresExecutor } from "../../tools/local/postgres-executor";
import { scratchDatabase } from "../../tools/local/scratch-database";
import { applySupabaseMigrations } from "../../tools/local/supabase-migrations";
import { applySupabaseRoles } from "../../tools/local/supabase-roles";
import { freePort } from "../../tools/local/throwaway-postgres";
import { webhookTriggersSql } from "../../tools/deploy/webhooks-sql";
import {
  applyD1Migrations,
  bundleWorker,
  PROJECT_ROOT,
  startWranglerDev,
  waitForHealthy,
} from "../../tools/local/wrangler";

export const CHAOS_SECRETS = { WEBHOOK_SECRET: "chaos-webhook", ADMIN_TOKEN: "chaos-admin", API_TOKEN: "chaos-api" };
const WORKER_ROLE = "sds_chaos_worker";

export interface ChaosStack {
  workerUrl: string;
  /** Superuser pool for the comparison and the staged outages. */
  sql: postgres.Sql;
  /** The writers' pool: as `service_role`, the role supabase-js writes as, so the sync triggers
   * are exercised with the API's rights, not a superuser's. */
  apiSql: postgres.Sql;
  d1: LocalD1;
  relay: ReturnType<typeof startPgNetRelay>;
  /** Supabase refuses the worker's connections (SQLSTATE 53300) for `ms`, dropping its sessions. */
  outage(ms: number): Promise<void>;
  /** Stops the worker, runs `meanwhile` (its webhooks are lost: pg_net does not retry), starts it again. */
  withWorkerStopped(meanwhile: () => Promise<void>): Promise<void>;
  /** The last lines wrangler dev printed. */
  wranglerTail(): string[];
  /** Fires the every-minute cron (both sweeps); wrangler dev does not run crons by itself. */
  fireCron(): Promise<void>;
  stop(): Promise<void>;
}

/** The same stack without any fault: what the console, replay and capture tests drive. */
export function startFaultFreeStack(
  opts: { log?: (line: string) => void; vars?: Record<string, string> } = {},
): Promise<ChaosStack> {
  return startChaosStack({
    relayFaults: { dropRate: 0, duplicateRate: 0, delayRate: 0, maxDelayMs: 0, random: Math.random },
    worker: { d1ErrorRate: 0, crashRate: 0 },
    log: opts.log ?? (() => {}),
    vars: opts.vars,
  });
}

/**
 * The real local stack for the chaos suite: a scratch Postgres, `wrangler dev` running the chaos
 * entry (the real worker plus D1 faults and consumer crashes), the pg_net relay with webhook
 * faults. The worker connects as a non-superuser role so an outage can be staged for it alone.
 */
export async function startChaosStack(opts: {
  relayFaults: RelayFaults;
  worker: { d1ErrorRate: number; crashRate: number };
  log: (line: string) => void;
  /** More worker vars, e.g. RECONCILE_GRACE_SECONDS for a test that repairs rows it just wrote. */
  vars?: Record<string, string>;
}): Promise<ChaosStack> {
  const database = await scratchDatabase("chaos");
  const persistDir = mkdtempSync(join(tmpdir(), "sds-chaos-d1-"));
  try {
    return await stackOn(database, persistDir, opts);
  } catch (error) {
    // A stack that failed to start (a broken bundle, a worker never healthy) leaves no Postgres
    // cluster or D1 directory behind: a full run once left eight clusters running this way.
    await database.drop().catch(() => {});
    rmSync(persistDir, { recursive: true, force: true });
    throw error;
  }
}

async function stackOn(
  database: Awaited<ReturnType<typeof scratchDatabase>>,
  persistDir: string,
  opts: Parameters<typeof startChaosStack>[0],
): Promise<ChaosStack> {
  const admin = postgresExecutor(database.url);
  await applySupabaseRoles(admin);
  await applySupabaseMigrations(admin);
  await admin.exec(await readFile(join(PROJECT_ROOT, "migrations/dev/pg_net_shim.sql"), "utf8"));
  await admin.exec(`do $$ begin create role ${WORKER_ROLE} login password 'worker';
                    exception when duplicate_object then null; end $$`);
  // The worker calls only the sync_* functions, which are granted to service_role alone.
  await admin.exec(`grant service_role to ${WORKER_ROLE}`);
  const workerUrl = new URL(database.url);
  workerUrl.username = WORKER_ROLE;
  workerUrl.password = "worker";

  await applyD1Migrations(persistDir);
  const bundle = await bundleWorker("test/chaos-worker/index.ts", join(persistDir, "bundle"));
  const port = await freePort();
  const wranglerLog: string[] = [];
  const startWorker = async () => {
    const w = startWranglerDev({
      entry: bundle,
      prebundled: true,
      port,
      inspectorPort: await freePort(),
      persistDir,
      databaseUrl: workerUrl.toString(),
      vars: {
        ...CHAOS_SECRETS,
        CHAOS_D1_ERROR_RATE: String(opts.worker.d1ErrorRate),
        CHAOS_CRASH_RATE: String(opts.worker.crashRate),
        SWEEP_GRACE_SECONDS: "2",
        ...opts.vars,
      },
      output: (line) => {
        wranglerLog.push(line);
        if (wranglerLog.length > 200) wranglerLog.shift();
      },
    });
    try {
      await waitForHealthy(w.url, 90_000, w.alive);
    } catch (error) {
      await w.stop();
      throw new Error(`${(error as Error).message}\n${wranglerLog.slice(-30).join("\n")}`);
    }
    return w;
  };
  let wrangler = await startWorker();
  await admin.exec(
    webhookTriggersSql({ url: `${wrangler.url}/webhooks/supabase`, secret: CHAOS_SECRETS.WEBHOOK_SECRET }),
  );
  const relay = startPgNetRelay({ db: admin, log: () => {}, faults: opts.relayFaults, batchSize: 200 });
  const sql = postgres(database.url, { max: 4, onnotice: () => {} });
  const apiSql = postgres(database.url, {
    max: 12,
    onnotice: () => {},
    connection: { role: "service_role" } as Record<string, string>,
  });
  const d1 = await openLocalD1(persistDir);
  opts.log(`stack: postgres ${database.url.replace(/:[^:@]*@/, ":***@")}, worker ${wrangler.url}, D1 ${persistDir}`);

  return {
    workerUrl: wrangler.url,
    wranglerTail: () => [...wranglerLog],
    async withWorkerStopped(meanwhile) {
      await wrangler.stop();
      try {
        await meanwhile();
      } finally {
        wrangler = await startWorker();
      }
    },
    sql,
    apiSql,
    d1,
    relay,
    async outage(ms) {
      await sql.unsafe(`alter role ${WORKER_ROLE} connection limit 0`);
      await sql`select pg_terminate_backend(pid) from pg_stat_activity where usename = ${WORKER_ROLE}`;
      await new Promise((r) => setTimeout(r, ms));
      await sql.unsafe(`alter role ${WORKER_ROLE} connection limit -1`);
    },
    async fireCron() {
      // wrangler dev has been seen to refuse a connection for a moment under load (twice in full
      // runs, each time mid-chaos): try for up to 30 s, then fail with wrangler's own last words.
      const url = `${wrangler.url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("* * * * *")}`;
      for (let attempt = 1; ; attempt++) {
        try {
          await (await fetch(url)).text();
          return;
        } catch (error) {
          if (attempt >= 30)
            throw new Error(
              `cron trigger failed ${attempt} times (worker alive: ${wrangler.alive()}): ${String(error)}\n` +
                wranglerLog.slice(-30).join("\n"),
            );
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    },
    async stop() {
      await relay.stop();
      await wrangler.stop();
      await d1.close();
      await apiSql.end({ timeout: 5 });
      await sql.end({ timeout: 5 });
      await admin.close();
      await database.drop();
      rmSync(persistDir, { recursive: true, force: true });
    },
  };
}
