import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { openLocalD1, type LocalD1 } from "./local-d1";
import { startPgNetRelay } from "./pg-net-relay";
import { startPgliteServer } from "./pglite-server";
import { postgresExecutor } from "./postgres-executor";
import { applySupabaseMigrations } from "./supabase-migrations";
import { applySupabaseRoles } from "./supabase-roles";
import { freePort } from "./throwaway-postgres";
import { webhookTriggersSql } from "../deploy/webhooks-sql";
import { applyD1Migrations, PROJECT_ROOT, startWranglerDev, waitForHealthy } from "./wrangler";

export interface DevSecrets {
  WEBHOOK_SECRET: string;
  ADMIN_TOKEN: string;
  API_TOKEN: string;
}

export interface DevStackOptions {
  /** Port of `wrangler dev`. */
  port: number;
  /** Local D1 (and other wrangler state) directory, passed to wrangler as --persist-to. */
  persistDir: string;
  /** An existing Postgres; when absent an embedded PGlite is served over TCP. */
  databaseUrl?: string;
  /** PGlite only: data directory (absent: in memory) and TCP port (0: any free port). */
  pglite?: { dataDir?: string; port: number };
  secrets: DevSecrets;
  /** More worker vars (e.g. the HubSpot app and hosts `npm run dev` points at its stand-in). */
  vars?: Record<string, string>;
  log: (line: string) => void;
  /** wrangler dev's own output, line by line (default: dropped). */
  wranglerOutput?: (line: string) => void;
  /** Fire the worker's every-minute cron (the sweeps) this often: wrangler dev never runs crons
   * by itself. Default: never. */
  cronIntervalMs?: number;
}

export interface DevStack {
  workerUrl: string;
  /** Postgres URL (with a password) that the worker's Hyperdrive binding uses. */
  databaseUrl: string;
  embedded: boolean;
  /** Whether the local pg_net shim and its relay deliver the webhooks (false on real Supabase). */
  relay: boolean;
  /** A query on Postgres. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** A query on the worker's local D1 (the first call starts a Miniflare reader, ~1 s). */
  d1<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

const SHIM = join(PROJECT_ROOT, "migrations/dev/pg_net_shim.sql");
const SHIM_MARK = "supabase-d1-sync local pg_net shim";

/**
 * Postgres (given or embedded) with migrations and webhook triggers, `wrangler dev` with local D1
 * and Queues, and the pg_net relay: the whole pipeline on one machine, offline.
 */
export async function startDevStack(opts: DevStackOptions): Promise<DevStack> {
  const { log } = opts;
  const cleanups: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.reverse().splice(0)) {
      await cleanup().catch((error: Error) => log(`shutdown: ${error.message}`));
    }
  };

  try {
    let databaseUrl: string;
    if (opts.databaseUrl) {
      databaseUrl = withPassword(opts.databaseUrl);
      // Said out loud: migrations and webhook triggers are installed in that database.
      log(`postgres: using DATABASE_URL ${redact(databaseUrl)} (migrations and webhook triggers go there)`);
    } else {
      const pglite = await startPgliteServer({ dataDir: opts.pglite?.dataDir, port: opts.pglite?.port ?? 0 });
      cleanups.push(() => pglite.stop());
      databaseUrl = pglite.url;
      log(`postgres: embedded PGlite (${opts.pglite?.dataDir ?? "in memory"}) on ${databaseUrl}`);
    }
    // The harness, too, goes through the TCP socket (see pglite-server.ts on transactions).
    const pg = postgresExecutor(databaseUrl);
    cleanups.push(() => pg.close());

    await applySupabaseRoles(pg);
    const applied = await applySupabaseMigrations(pg);
    log(`postgres: migrations ${applied.length ? `applied ${applied.join(", ")}` : "up to date"}`);
    const [functions] = await pg.query<{ present: boolean }>(
      "select exists (select 1 from pg_namespace where nspname = 'supabase_functions') as present",
    );
    if (!functions?.present) {
      await pg.exec(await readFile(SHIM, "utf8"));
      log("postgres: no supabase_functions schema (not Supabase): installed the local pg_net shim");
    }
    const [mark] = await pg.query<{ comment: string | null }>(
      "select obj_description(to_regclass('net.http_request_queue'), 'pg_class') as comment",
    );
    const relayNeeded = mark?.comment === SHIM_MARK;

    log("d1: applying migrations/d1 (wrangler d1 migrations apply --local)");
    await applyD1Migrations(opts.persistDir);

    const wrangler = startWranglerDev({
      port: opts.port,
      inspectorPort: await freePort(),
      persistDir: opts.persistDir,
      databaseUrl,
      vars: { ...opts.secrets, ...opts.vars },
      output: opts.wranglerOutput ?? (() => {}),
    });
    cleanups.push(() => wrangler.stop());
    log(`worker: starting wrangler dev on ${wrangler.url}`);
    await waitForHealthy(wrangler.url, 90_000, wrangler.alive);
    log("worker: /health is healthy (D1 and Postgres reachable)");

    await pg.exec(
      webhookTriggersSql({ url: `${wrangler.url}/webhooks/supabase`, secret: opts.secrets.WEBHOOK_SECRET }),
    );
    log(`postgres: statement-level capture triggers -> ${wrangler.url}/webhooks/supabase/batch`);
    if (relayNeeded) {
      const relay = startPgNetRelay({ db: pg, log });
      cleanups.push(() => relay.stop()); // cleanups run in reverse: stops before pg closes
      log("relay: sending queued pg_net requests every 100 ms");
    } else {
      log(`postgres: pg_net sends the webhooks from the database server, which must reach ${wrangler.url}`);
    }

    if (opts.cronIntervalMs) {
      const timer = setInterval(() => {
        fetch(`${wrangler.url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("* * * * *")}`)
          .then((r) => (r.ok ? undefined : log(`cron: HTTP ${r.status}`)))
          .catch((error: Error) => log(`cron: ${error.message}`));
      }, opts.cronIntervalMs);
      cleanups.push(async () => clearInterval(timer));
      log(`worker: firing the "* * * * *" cron (sweeps) every ${opts.cronIntervalMs / 1000} s`);
    }

    // Opened on first use: `npm run dev` never needs it (see local-d1.ts on its signal handlers).
    let d1: Promise<LocalD1> | undefined;
    cleanups.push(async () => {
      if (d1) await (await d1).close();
    });

    return {
      workerUrl: wrangler.url,
      databaseUrl,
      embedded: !opts.databaseUrl,
      relay: relayNeeded,
      query: (sql, params) => pg.query(sql, params),
      d1: async (sql, params) => (await (d1 ??= openLocalD1(opts.persistDir))).query(sql, params),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Hyperdrive's local binding refuses a connection string without a password. */
function withPassword(url: string): string {
  const u = new URL(url);
  if (!u.password) u.password = "postgres";
  return u.toString();
}

export function redact(url: string): string {
  const u = new URL(url);
  if (u.password && u.password !== "postgres") u.password = "***";
  return u.toString();
}
