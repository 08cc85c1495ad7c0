import { execFile } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { startPgNetRelay } from "../tools/local/pg-net-relay";
import { postgresExecutor } from "../tools/local/postgres-executor";
import { applySupabaseMigrations } from "../tools/local/supabase-migrations";
import { applySupabaseRoles } from "../tools/local/supabase-roles";
import { freePort } from "../tools/local/throwaway-postgres";
import { dropCaptureSql, webhookTriggersSql, type CaptureMode } from "../tools/deploy/webhooks-sql";
import { applyD1Migrations, PROJECT_ROOT, startWranglerDev, waitForHealthy } from "../tools/local/wrangler";
import { benchDatabase } from "./postgres";

export const BENCH_SECRETS = { WEBHOOK_SECRET: "bench-webhook", ADMIN_TOKEN: "bench-admin", API_TOKEN: "bench-api" };

export interface BenchStack {
  workerUrl: string;
  port: number;
  /** Superuser pool for the writers (up to 16 connections). */
  sql: postgres.Sql;
  databaseUrl: string;
  /** POST (or GET without a body) to a /__bench/ route of the bench worker. */
  bench<T = unknown>(route: string, body?: unknown): Promise<T>;
  /** A query on the worker's own D1, run by the worker (no second workerd on the same file). */
  d1<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Capture triggers of one mode (default `row`: the dashboard's webhooks, as measured before issue 14). */
  installWebhooks(capture?: CaptureMode): Promise<void>;
  /** Drops the capture triggers of both modes. */
  dropWebhooks(): Promise<void>;
  startRelay(): void;
  /** Requests the relay sent (any answer) and failed to deliver since it started. */
  relayStats(): { sent: number; failed: number };
  stopRelay(): Promise<void>;
  wranglerTail(): string[];
  stop(): Promise<void>;
}

/**
 * The real local stack, as the chaos suite composes it: a scratch Postgres (see postgres.ts) with the migrations
 * and the pg_net stand-in, `wrangler dev` running bench/worker/index.ts (the real worker plus the
 * bench endpoints) with local D1, Queues and a Hyperdrive binding, and the pg_net relay on demand.
 */
export async function startBenchStack(
  log: (line: string) => void,
  opts: { vars?: Record<string, string> } = {},
): Promise<BenchStack> {
  const cleanups: Array<() => Promise<void> | void> = [];
  const stopAll = async () => {
    for (const c of cleanups.reverse().splice(0))
      await Promise.resolve(c()).catch((e: Error) => log(`shutdown: ${e.message}`));
  };
  try {
    const database = await benchDatabase();
    cleanups.push(() => database.drop());
    const admin = postgresExecutor(database.url);
    cleanups.push(() => admin.close());
    await applySupabaseRoles(admin);
    await applySupabaseMigrations(admin);
    await admin.exec(await readFile(join(PROJECT_ROOT, "migrations/dev/pg_net_shim.sql"), "utf8"));
    const persistDir = mkdtempSync(join(tmpdir(), "sds-bench-d1-"));
    cleanups.push(() => rmSync(persistDir, { recursive: true, force: true }));
    await applyD1Migrations(persistDir);
    log(`stack: postgres ${database.url.replace(/:[^:@]*@/, ":***@")}, D1 ${persistDir}`);

    // `wrangler dev` reloads the worker whenever a source file changes, which would cut a run
    // short while someone edits the project; so the bench runs a bundle built once, up front
    // (wrangler's own build, as for deploy), and measures exactly that snapshot.
    // (Inside the project, under the git-ignored .wrangler/: wrangler finds wrangler.toml by
    // walking up from the entry.)
    const bundleDir = join(PROJECT_ROOT, ".wrangler", `bench-bundle-${process.pid}`);
    mkdirSync(bundleDir, { recursive: true });
    cleanups.push(() => rmSync(bundleDir, { recursive: true, force: true }));
    await bundleWorker(bundleDir);
    const port = await freePort();
    const tail: string[] = [];
    // Everything wrangler dev prints, for diagnosis after a run (git-ignored).
    mkdirSync(join(PROJECT_ROOT, ".wrangler", "bench"), { recursive: true });
    const wranglerLog = createWriteStream(join(PROJECT_ROOT, ".wrangler", "bench", "wrangler-dev.log"));
    cleanups.push(() => new Promise<void>((resolve) => wranglerLog.end(resolve)));
    const wrangler = startWranglerDev({
      entry: join(bundleDir, "index.js"),
      port,
      inspectorPort: await freePort(),
      persistDir,
      databaseUrl: database.url,
      // Extra vars (the hubspot phase points the worker at its stand-in) next to the bench secrets.
      vars: { ...BENCH_SECRETS, ...opts.vars },
      output: (line) => {
        wranglerLog.write(`${new Date().toISOString()} ${line}\n`);
        tail.push(line);
        if (tail.length > 300) tail.shift();
      },
    });
    cleanups.push(() => wrangler.stop());
    try {
      await waitForHealthy(wrangler.url, 90_000, wrangler.alive);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${tail.slice(-30).join("\n")}`);
    }
    log(`stack: wrangler dev (bench/worker/index.ts, bundled) on ${wrangler.url} is healthy`);

    const sql = postgres(database.url, { max: 16, onnotice: () => {} });
    cleanups.push(() => sql.end({ timeout: 5 }));
    let relay: ReturnType<typeof startPgNetRelay> | undefined;
    cleanups.push(async () => {
      await relay?.stop();
    });

    const bench = async <T>(route: string, body?: unknown): Promise<T> => {
      const response = await fetch(`${wrangler.url}/__bench/${route}`, {
        method: body === undefined ? "GET" : "POST",
        headers: { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        // A run once sat for minutes on a request workerd never logged (the worker answered
        // others at once): fail loudly instead. Not retried: a recorder drain is not idempotent.
        signal: AbortSignal.timeout(120_000),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`/__bench/${route} -> HTTP ${response.status}: ${text.slice(0, 2000)}`);
      return JSON.parse(text) as T;
    };

    return {
      workerUrl: wrangler.url,
      port,
      sql,
      databaseUrl: database.url,
      bench,
      d1: async <T>(text: string, params: unknown[] = []) =>
        (await bench<{ results: T[] }>("d1", { sql: text, params })).results,
      installWebhooks: async (capture = "row") => {
        await admin.exec(
          webhookTriggersSql({
            url: `${wrangler.url}/webhooks/supabase`,
            secret: BENCH_SECRETS.WEBHOOK_SECRET,
            capture,
          }),
        );
      },
      dropWebhooks: async () => {
        await admin.exec(dropCaptureSql());
      },
      relayStats: () => ({ sent: relay?.stats.sent ?? 0, failed: relay?.stats.failed ?? 0 }),
      // The relay as `npm run dev` runs it: every 100 ms, up to 100 requests, sent concurrently.
      startRelay: () => {
        relay ??= startPgNetRelay({ db: admin, log: (l) => log(`relay: ${l}`) });
      },
      stopRelay: async () => {
        await relay?.stop();
        relay = undefined;
      },
      wranglerTail: () => [...tail],
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** `wrangler deploy --dry-run --outdir`: the same esbuild bundle wrangler dev would build. */
function bundleWorker(outdir: string): Promise<void> {
  const wranglerJs = createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [wranglerJs, "deploy", "--dry-run", "--outdir", outdir, "bench/worker/index.ts"],
      {
        cwd: PROJECT_ROOT,
        env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) =>
        error ? reject(new Error(`bundling the bench worker failed:\n${stdout}\n${stderr}`)) : resolve(),
    );
  });
}
