import { sweepChangeLog } from "../producers/change-log-sweep";
import { sweepOutbox } from "../producers/outbox";
import { queueBindings } from "../producers/publish";
import type { Env } from "./env";
import { pruneExpired } from "./services/retention";
import { supabaseFromEnv } from "./stores/supabase-from-env";

/** Crons as declared in wrangler.toml. */
export const CRONS = { sweeps: "* * * * *", retention: "23 * * * *" } as const;

/**
 * Every minute: the two sweeps that make capture at-least-once. Hourly: retention. Each job is
 * independent; a failure (e.g. Supabase down) is logged and the next run tries again.
 */
export async function runScheduled(cron: string, env: Env): Promise<void> {
  const queues = queueBindings(env);
  const jobs: Record<string, () => Promise<unknown>> =
    cron === CRONS.retention
      ? { retention: () => pruneExpired({ db: env.DB, rpc: supabaseFromEnv(env) }) }
      : {
          outboxSweep: () => sweepOutbox({ db: env.DB, queues }),
          changeLogSweep: () =>
            sweepChangeLog({ rpc: supabaseFromEnv(env), db: env.DB, queues }, { graceSeconds: numberOr(env.SWEEP_GRACE_SECONDS, 30) }),
        };
  await Promise.all(
    Object.entries(jobs).map(async ([name, run]) => {
      try {
        console.log(JSON.stringify({ msg: name, result: await run() }));
      } catch (error) {
        console.error(JSON.stringify({ msg: `${name} failed`, error: String(error) }));
      }
    }),
  );
}

function numberOr(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value !== "" && Number.isFinite(n) && n >= 0 ? n : fallback;
}
