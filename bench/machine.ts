import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg, release, totalmem, type as osType } from "node:os";
import { dirname, join } from "node:path";
import { PROJECT_ROOT } from "../tools/local/wrangler";

const require = createRequire(import.meta.url);

/** The installed version, read from node_modules (some packages do not export package.json). */
function packageVersion(name: string, from = PROJECT_ROOT): string {
  for (const dir of [join(from, "node_modules", name), join(PROJECT_ROOT, "node_modules", name)]) {
    try {
      return (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string }).version;
    } catch {
      // try the next
    }
  }
  return "unknown";
}

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { cwd: PROJECT_ROOT, encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

function osName(): string {
  try {
    return /PRETTY_NAME="([^"]+)"/.exec(readFileSync("/etc/os-release", "utf8"))?.[1] ?? osType();
  } catch {
    return osType();
  }
}

/** What the figures were measured on, and with what. */
export function machineInfo() {
  const wranglerDir = dirname(require.resolve("wrangler/package.json", { paths: [PROJECT_ROOT] }));
  const workerdPkg = join(wranglerDir, "node_modules/@cloudflare/workerd-linux-64");
  const dirty = run("git", [
    "status",
    "--porcelain",
    "--",
    "src",
    "consumers",
    "producers",
    "schemas",
    "migrations",
    "bench",
    "wrangler.toml",
  ]);
  return {
    cpu: `${cpus()[0]?.model ?? "unknown"} × ${cpus().length}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${osName()}, Linux ${release()}`,
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
    versions: {
      node: process.version,
      wrangler: packageVersion("wrangler"),
      miniflare: packageVersion("miniflare", wranglerDir),
      workerd: run(join(workerdPkg, "bin/workerd"), ["--version"]).replace(/^workerd /, ""),
      postgresJs: packageVersion("postgres"),
      zod: packageVersion("zod"),
    },
    git: {
      commit: run("git", ["rev-parse", "--short", "HEAD"]),
      /** Uncommitted changes in the measured code (the bench bundles the working tree). */
      uncommitted:
        dirty === ""
          ? []
          : dirty
              .split("\n")
              .map((l) => l.trim())
              .filter((l) => !isBenchOutput(l)),
    },
  };
}

export type MachineInfo = ReturnType<typeof machineInfo>;

/** The bench's own outputs are not measured code. */
export function isBenchOutput(statusLine: string): boolean {
  return /bench\/(RESULTS\.md|results(\.previous)?\.json)$/.test(statusLine);
}
