import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { openLocalD1, type LocalD1 } from "../../tools/local/local-d1";
import { startPgNetRelay } from "../../tools/local/pg-net-relay";
import { postgresExecutor } from "../../tools/local/postgres-executor";
import { scratchDatabase } from "../../tools/local/scratch-database";
import { applySupabaseMigrations } from "../../tools/local/supabase-migrations";
import { freePort } from "../../tools/local/throwaway-postgres";
import { webhookTriggersSql } from "../../tools/deploy/webhooks-sql";
import {
  applyD1Migrations,
  bundleWorker,
  PROJECT_ROOT,
  startWranglerDev,
  waitForHealthy,
} from "../../tools/local/wrangler";

export const FUZZ_SECRETS = { WEBHOOK_SECRET: "fuzz-webhook", ADMIN_TOKEN: "fuzz-admin", API_TOKEN: "fuzz-api" };

export interface FuzzStack {
  workerUrl: string;
  /** Superuser pool: seeding and the final store checks. */
  sql: postgres.Sql;
  d1: LocalD1;
  /** Fires the every-minute cron (both sweeps); wrangler dev does not run crons by itself. */
  fireCron(): Promise<void>;
  wranglerTail(): string[];
  stop(): Promise<void>;
}

/**
 * The real local stack, as the node-side tests run it (a scratch Postgres with the migrations and
 * the pg_net shim, `wrangler dev` with local D1 and Queues, the relay), with one difference: the
 * worker entry is test/fuzz-worker/index.ts, the real worker whose responses also say how many
 * queue messages and D1 rows the request produced (the refused-input oracle reads them).
 * Bundled once, like the chaos stack, so nothing restarts the runtime mid-run.
 */
export async function startFuzzStack(
  log: (line: string) => void,
  opts: { wranglerLogFile?: string; keepUnreadBodies?: boolean } = {},
): Promise<FuzzStack> {
  const cleanups: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.reverse().splice(0))
      await cleanup().catch((e: Error) => log(`shutdown: ${e.message}`));
  };
  try {
    const database = await scratchDatabase("fuzz");
    cleanups.push(() => database.drop());
    const persistDir = mkdtempSync(join(tmpdir(), "sds-fuzz-d1-"));
    cleanups.push(async () => rmSync(persistDir, { recursive: true, force: true }));
    const admin = postgresExecutor(database.url);
    cleanups.push(() => admin.close());
    await applySupabaseMigrations(admin);
    await admin.exec(await readFile(join(PROJECT_ROOT, "migrations/dev/pg_net_shim.sql"), "utf8"));

    await applyD1Migrations(persistDir);
    const bundle = await bundleWorker("test/fuzz-worker/index.ts", join(persistDir, "bundle"));
    const wranglerLog: string[] = [];
    const wrangler = startWranglerDev({
      entry: bundle,
      prebundled: true,
      port: await freePort(),
      inspectorPort: await freePort(),
      persistDir,
      databaseUrl: database.url,
      vars: {
        ...FUZZ_SECRETS,
        SWEEP_GRACE_SECONDS: "2",
        ...(opts.keepUnreadBodies ? { FUZZ_KEEP_UNREAD_BODIES: "1" } : {}),
      },
      output: (line) => {
        if (opts.wranglerLogFile) appendFileSync(opts.wranglerLogFile, `${line}\n`);
        wranglerLog.push(line);
        if (wranglerLog.length > 400) wranglerLog.shift();
      },
    });
    cleanups.push(() => wrangler.stop());
    try {
      await waitForHealthy(wrangler.url, 90_000, wrangler.alive);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${wranglerLog.slice(-30).join("\n")}`);
    }
    await admin.exec(
      webhookTriggersSql({ url: `${wrangler.url}/webhooks/supabase`, secret: FUZZ_SECRETS.WEBHOOK_SECRET }),
    );
    const relay = startPgNetRelay({ db: admin, log: () => {} });
    cleanups.push(() => relay.stop());
    const sql = postgres(database.url, { max: 4, onnotice: () => {} });
    cleanups.push(() => sql.end({ timeout: 5 }));
    const d1 = await openLocalD1(persistDir);
    cleanups.push(() => d1.close());
    log(`stack: postgres ${database.url.replace(/:[^:@]*@/, ":***@")}, worker ${wrangler.url}, D1 ${persistDir}`);
    return {
      workerUrl: wrangler.url,
      sql,
      d1,
      wranglerTail: () => [...wranglerLog],
      async fireCron() {
        const r = await fetch(`${wrangler.url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("* * * * *")}`);
        await r.text();
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
