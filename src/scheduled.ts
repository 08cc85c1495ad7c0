import { sweepChangeLog } from "../producers/change-log-sweep";
import { sweepOutbox } from "../producers/outbox";
import { queueBindings } from "../producers/publish";
import type { Env } from "./env";
import { supabaseFromEnv } from "./stores/supabase-from-env";

/**
 * Cron (every minute): the two sweeps that make capture at-least-once. Each is independent; a
 * failure of one (e.g. Supabase down) is logged and retried by the next run.
 */
export async function runScheduled(env: Env): Promise<void> {
  const queues = queueBindings(env);
  const sweeps = {
    outbox: () => sweepOutbox({ db: env.DB, queues }),
    changeLog: () => sweepChangeLog({ rpc: supabaseFromEnv(env), db: env.DB, queues }),
  };
  await Promise.all(
    Object.entries(sweeps).map(async ([name, run]) => {
      try {
        console.log(JSON.stringify({ msg: `${name} sweep`, ...(await run()) }));
      } catch (error) {
        console.error(JSON.stringify({ msg: `${name} sweep failed`, error: String(error) }));
      }
    }),
  );
}
