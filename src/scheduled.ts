import { sweepChangeLog } from "../producers/change-log-sweep";
import { sweepOutbox } from "../producers/outbox";
import { queueBindings } from "../producers/publish";
import { ENTITIES } from "../schemas/registry";
import type { Env } from "./env";
import { entityStores } from "./services/entity-stores";
import { runIntegrityChecks } from "./services/integrity";
import { DEFAULT_RECONCILE_GRACE_SECONDS, reconcileEntity } from "./services/reconcile";
import { DEFAULT_PAYLOAD_RETENTION_DAYS, pruneExpired } from "./services/retention";
import { numberSetting } from "../core/settings";
import { resumeStalledJobs } from "./services/replay-jobs";
import { supabaseFromEnv } from "./wiring/supabase-from-env";

/** Crons as declared in wrangler.toml. */
export const CRONS = { sweeps: "* * * * *", hourly: "23 * * * *" } as const;

/**
 * Every minute: the two sweeps that make capture at-least-once, and resuming stalled replay jobs. Hourly: retention, reconciliation
 * of every replicated entity (repairing what differs; a large table is finished over several
 * runs) and the integrity checks. Each job is independent; a failure (e.g. Supabase down) is
 * logged and the next run tries again.
 */
export async function runScheduled(cron: string, env: Env): Promise<void> {
  const queues = queueBindings(env);
  // One Supabase client for all of this run's jobs, made on first use: a misconfiguration then
  // fails only the jobs that need Supabase.
  let client: ReturnType<typeof supabaseFromEnv> | undefined;
  const rpc = () => (client ??= supabaseFromEnv(env));
  const jobs: Record<string, () => Promise<unknown>> =
    cron === CRONS.hourly
      ? {
          retention: () =>
            pruneExpired({
              db: env.DB,
              rpc: rpc(),
              payloadRetentionDays: numberSetting(env.FAILED_TASK_PAYLOAD_RETENTION_DAYS, DEFAULT_PAYLOAD_RETENTION_DAYS),
            }),
          reconcile: async () => {
            const runs = [];
            for (const entity of ENTITIES.filter((e) => e.replica)) {
              runs.push(await reconcileEntity({ ...entityStores(entity, env.DB, rpc()), db: env.DB }, entity, {
                  repair: true,
                  trigger: "cron",
                  graceSeconds: numberSetting(env.RECONCILE_GRACE_SECONDS, DEFAULT_RECONCILE_GRACE_SECONDS),
                }));
            }
            return runs;
          },
          integrity: () => runIntegrityChecks({ db: env.DB, rpc: rpc() }, "cron"),
        }
      : {
          outboxSweep: () => sweepOutbox({ db: env.DB, queues }),
          changeLogSweep: () =>
            sweepChangeLog({ rpc: rpc(), db: env.DB, queues }, { graceSeconds: numberSetting(env.SWEEP_GRACE_SECONDS, 30) }),
          // A replay job whose tick message was lost (or whose runner died) is picked up again.
          resumeReplayJobs: () => resumeStalledJobs(env.DB, env.CONTROL),
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
