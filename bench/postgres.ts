import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { scratchDatabase } from "../src/local/scratch-database";
import { freePort } from "../src/local/throwaway-postgres";

/**
 * The bench's Postgres. With DATABASE_URL: a fresh database on that server (scratchDatabase).
 * Otherwise a private cluster from the local binaries, like the tests' throwaway cluster but with
 * durable commits (fsync on, the default): the tests turn fsync off for speed, which would make a
 * per-row commit nearly free here while Supabase (and local D1) pay a disk flush for each.
 */
export async function benchDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  if (process.env.DATABASE_URL) return scratchDatabase("bench");
  const bin = postgresBin();
  const dir = mkdtempSync(join(tmpdir(), "sds-bench-pg-"));
  const asRoot = userInfo().uid === 0;
  const run = (cmd: string, args: string[]) => {
    const full = join(bin, cmd);
    const r = asRoot
      ? spawnSync("runuser", ["-u", "postgres", "--", full, ...args], { encoding: "utf8" })
      : spawnSync(full, args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout}`);
  };
  if (asRoot) {
    const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
    chownSync(dir, id("-u"), id("-g"));
  }
  const data = join(dir, "data");
  run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  const port = await freePort();
  run("pg_ctl", [
    "-D", data, "-l", join(dir, "postgres.log"), "-w", "-t", "60",
    "-o", `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c max_connections=200`,
    "start",
  ]);
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    drop: async () => {
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function postgresBin(): string {
  if (process.env.PG_BIN && existsSync(join(process.env.PG_BIN, "initdb"))) return process.env.PG_BIN;
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    for (const v of readdirSync(root).sort((a, b) => Number(b) - Number(a))) {
      if (existsSync(join(root, v, "bin", "initdb"))) return join(root, v, "bin");
    }
  }
  try {
    return execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("PostgreSQL binaries (initdb, pg_ctl) not found: install PostgreSQL, set PG_BIN, or set DATABASE_URL");
  }
}
