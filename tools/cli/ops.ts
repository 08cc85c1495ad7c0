/**
 * `npm run ops -- <command>`: the operator's side of the worker's admin API (`help` lists the
 * commands). This file only wires the process in; the CLI itself is tools/cli/ops/.
 */
import { hostname, userInfo } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { runCli } from "./ops/run";

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? "unknown"; // no passwd entry (some containers)
  }
}

const code = await runCli(process.argv.slice(2), {
  env: process.env,
  user: osUser(),
  host: hostname(),
  fetch,
  now: () => new Date(),
  sleep: (ms) => sleep(ms),
  io: {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stderrIsTTY: process.stderr.isTTY ?? false,
  },
});
// Let stdout drain before exiting: a large --json document piped to another program must arrive whole.
process.exitCode = code;
