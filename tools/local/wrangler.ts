import { execFile, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** The project root (wrangler.toml, migrations/ and node_modules/ live there). */
export const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));

// Run wrangler's JS entry with this Node rather than through `npx`: no extra shell or npm process
// sits between us and wrangler, so stopping it stops exactly what we started.
const WRANGLER_JS = createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");

function wranglerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // CI=true: no prompts (d1 migrations apply asks for confirmation otherwise), no interactive UI.
  return { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", ...extra };
}

/** `wrangler d1 migrations apply DB --local`: applies migrations/d1 to the local D1 once each. */
export function applyD1Migrations(persistDir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [WRANGLER_JS, "d1", "migrations", "apply", "DB", "--local", "--persist-to", persistDir],
      { cwd: PROJECT_ROOT, env: wranglerEnv(), maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`wrangler d1 migrations apply failed:\n${stdout}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

export interface WranglerDev {
  url: string;
  /** False once the wrangler process has exited. */
  alive(): boolean;
  stop(): Promise<void>;
}

/**
 * Starts `wrangler dev` (workerd with local D1, Queues with retries and DLQs, and a Hyperdrive
 * binding pointed at `databaseUrl`). Its output goes line by line to `output`.
 */
export function startWranglerDev(opts: {
  /** Worker entry instead of wrangler.toml's `main` (the chaos suite wraps the real worker). */
  entry?: string;
  /** The entry is an already bundled script (see bundleWorker): nothing to build, nothing to watch. */
  prebundled?: boolean;
  port: number;
  inspectorPort: number;
  persistDir: string;
  databaseUrl: string;
  vars: Record<string, string>;
  output: (line: string) => void;
}): WranglerDev {
  const args = [
    WRANGLER_JS,
    "dev",
    ...(opts.entry ? [opts.entry] : []),
    ...(opts.prebundled ? ["--no-bundle"] : []),
    // Explicit: with an entry outside the project, wrangler would otherwise look for its config there.
    "--config",
    `${PROJECT_ROOT}wrangler.toml`,
    "--ip",
    "127.0.0.1",
    "--port",
    String(opts.port),
    "--inspector-port",
    String(opts.inspectorPort),
    "--persist-to",
    opts.persistDir,
    "--show-interactive-dev-session=false",
    ...Object.entries(opts.vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
  ];
  const child = spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    // Its own process group: workerd runs as wrangler's child, and stop() signals the group.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: wranglerEnv({ CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: opts.databaseUrl }),
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (line) => opts.output(line));
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stopped = false;
  // The whole group: wrangler and the workerd it spawned (which may outlive wrangler briefly).
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // ESRCH: the group is gone
    }
  };
  // If this process exits without calling stop(), do not leave workerd behind.
  const onExit = () => {
    if (!stopped) killGroup("SIGKILL");
  };
  process.once("exit", onExit);

  return {
    url: `http://127.0.0.1:${opts.port}`,
    alive: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      if (stopped) return;
      killGroup("SIGTERM");
      const timer = setTimeout(() => killGroup("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
      killGroup("SIGKILL");
      stopped = true;
      process.removeListener("exit", onExit);
    },
  };
}

/**
 * Bundles a worker entry once (`wrangler deploy --dry-run --outdir`). `wrangler dev` on the bundle
 * with `prebundled` never rebuilds: editing the project (or running vitest, which writes under
 * node_modules) cannot restart the runtime mid-run, and a restart drops local queues' messages.
 */
export function bundleWorker(entry: string, outdir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [WRANGLER_JS, "deploy", entry, "--dry-run", "--outdir", outdir],
      { cwd: PROJECT_ROOT, env: wranglerEnv(), maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`wrangler deploy --dry-run failed:\n${stdout}\n${stderr}`));
        else resolve(`${outdir}/index.js`);
      },
    );
  });
}

/** Polls GET /health until the worker answers "healthy" (both stores reachable). */
export async function waitForHealthy(
  url: string,
  timeoutMs: number,
  isAlive: () => boolean = () => true,
): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error("wrangler dev exited before the worker became healthy");
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) });
      const body = (await response.json()) as { data?: { status?: string } };
      if (response.ok && body.data?.status === "healthy") return body.data;
      last = `HTTP ${response.status} ${JSON.stringify(body)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`worker at ${url} not healthy after ${timeoutMs} ms; last: ${last}`);
}
