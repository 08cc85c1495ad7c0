import { CONTROL_QUEUE, QUEUES } from "../schemas/registry";
import type { Env } from "./env";
import { d1Replica } from "../core/stores/d1-replica";
import { supabaseReplica } from "../core/stores/supabase-replica";
import { recordFailedTasks } from "../consumers/dead-letter";
import { consumeControlBatch } from "../consumers/control-queue";
import { kick, runJobTick } from "./services/replay-jobs";
import { workerReplayStores } from "./wiring/replay-stores";
import { guardedTarget } from "../consumers/guarded-target";
import { consumeWorkBatch } from "../consumers/work-queue";
import { sampledBatchLog } from "../consumers/batch-log";
import { workerDeps, type WorkerDeps } from "./wiring/deps";
import { runFullSyncStep } from "./services/hubspot-sync";
import { hubspotSyncDeps, kickHubSpotSync } from "./wiring/hubspot-sync-deps";

/** Per isolate: quiet batches are summed into one log line a minute (consumers/batch-log.ts). */
const batchLog = sampledBatchLog();

/** Dispatches a queue batch by queue name (wrangler.toml declares exactly these). */
export async function routeQueueBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const deps = workerDeps(env);
  const { db, breakers } = deps;
  switch (batch.queue) {
    case QUEUES.toD1:
      await consumeWorkBatch(
        {
          queue: QUEUES.toD1,
          target: guardedTarget(d1Replica(db), breakers.d1),
          db,
          dlq: deps.queues[QUEUES.toD1Dlq],
          log: batchLog,
        },
        batch,
      );
      return;
    case QUEUES.toSupabase: {
      let rpc: ReturnType<WorkerDeps["supabase"]>;
      try {
        rpc = deps.supabase();
      } catch (error) {
        console.error(JSON.stringify({ msg: "supabase not configured", error: String(error) }));
        batch.retryAll({ delaySeconds: 300 });
        return;
      }
      await consumeWorkBatch(
        {
          queue: QUEUES.toSupabase,
          target: guardedTarget(supabaseReplica(rpc), breakers.supabase),
          db,
          dlq: deps.queues[QUEUES.toSupabaseDlq],
          log: batchLog,
        },
        batch,
      );
      return;
    }
    case QUEUES.toD1Dlq:
    case QUEUES.toSupabaseDlq:
      await recordFailedTasks({ db, alert: deps.alert, quarantineAfter: deps.settings.REPLAY_QUARANTINE_AFTER }, batch);
      return;
    case CONTROL_QUEUE: {
      const jobs = { db, queues: deps.queues, stores: workerReplayStores(env, deps) };
      await consumeControlBatch(
        {
          runTick: (jobId) => runJobTick(jobs, jobId),
          kick: (jobId, delaySeconds) => kick(deps.control, jobId, delaySeconds),
          syncStep: (sessionId) =>
            runFullSyncStep(hubspotSyncDeps(env, deps), sessionId, {
              pagesPerStep: deps.settings.HUBSPOT_PAGES_PER_STEP,
            }),
          kickSync: (sessionId, delaySeconds) => kickHubSpotSync(deps.control, sessionId, delaySeconds),
        },
        batch,
      );
      return;
    }
    default:
      // A queue we do not know: never ack what we cannot handle.
      console.error(JSON.stringify({ msg: "unknown queue", queue: batch.queue }));
      batch.retryAll({ delaySeconds: 300 });
  }
}
