import { sweepChangeLog } from "../producers/change-log-sweep";
import { sweepOutbox } from "../producers/outbox";
import { reconcilable } from "../schemas/registry";
import type { Env } from "./env";
import { entityStores } from "./services/entity-stores";
import { runIntegrityChecks } from "./services/integrity";
import { reconcileEntity } from "./services/reconcile";
import { pruneExpired } from "./services/retention";
import { rollUpMetrics } from "./services/metrics-retention";
import { resumeStalledJobs } from "./services/replay-jobs";
import { workerDeps } from "./wiring/deps";
import { hubspotCron } from "./services/hubspot-sync";
import { hubspotSyncDeps } from "./wiring/hubspot-sync-deps";

/** Crons as declared in wrangler.toml. */
export const CRONS = { sweeps: "* * * * *", hourly: "23 * * * *" } as const;

/**
 * Every minute: the two sweeps that make capture at-least-once, resuming stalled replay jobs and the
 * HubSpot sync (src/services/hubspot-sync.ts). Hourly: retention, reconciliation
 * of every replicated entity (repairing what differs; a large table is finished over several
 * runs), the integrity checks and the roll-up of the charts' metrics. Each job is independent; a failure (e.g. Supabase down) is
 * logged and the next run tries again.
 */
export async function runScheduled(cron: string, env: Env): Promise<void> {
  // One Supabase client for all of this run's jobs, made on first use: a misconfiguration then
  // fails only the jobs that need Supabase.
  const deps = workerDeps(env);
  const { db, queues, control, settings, supabase: rpc } = deps;
  const jobs: Record<string, () => Promise<unknown>> =
    cron === CRONS.hourly
      ? {
          retention: () =>
            pruneExpired({
              db,
              rpc: rpc(),
              payloadRetentionDays: settings.FAILED_TASK_PAYLOAD_RETENTION_DAYS,
              hubspotLogRetentionDays: settings.HUBSPOT_LOG_RETENTION_DAYS,
            }),
          reconcile: async () => {
            const runs = [];
            for (const entity of reconcilable()) {
              runs.push(
                await reconcileEntity({ ...entityStores(entity, db, rpc()), db }, entity, {
                  repair: true,
                  trigger: "cron",
                  graceSeconds: settings.RECONCILE_GRACE_SECONDS,
                }),
              );
            }
            return runs;
          },
          integrity: () => runIntegrityChecks({ db, rpc: rpc() }, "cron"),
          // D1 only: runs even when Supabase is down, so the metrics table stays bounded.
          metrics: () =>
            rollUpMetrics(db, {
              minuteHours: settings.METRICS_MINUTE_RETENTION_HOURS,
              hourDays: settings.METRICS_HOUR_RETENTION_DAYS,
            }),
        }
      : {
          outboxSweep: () => sweepOutbox({ db, queues }, { graceSeconds: settings.SWEEP_GRACE_SECONDS }),
          changeLogSweep: () =>
            sweepChangeLog({ rpc: rpc(), db, queues }, { graceSeconds: settings.SWEEP_GRACE_SECONDS }),
          // A replay job whose tick message was lost (or whose runner died) is picked up again.
          resumeReplayJobs: () => resumeStalledJobs(db, control),
          // HubSpot: the first full sync of a connected portal, a full sync whose tick was lost,
          // and an incremental sync every HUBSPOT_INCREMENTAL_INTERVAL_SECONDS.
          hubspot: () =>
            hubspotCron(hubspotSyncDeps(env, deps), {
              intervalMs: settings.HUBSPOT_INCREMENTAL_INTERVAL_SECONDS * 1000,
            }),
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
