import { CONTROL_QUEUE, QUEUES } from "../schemas/registry";
import type { Env } from "./env";
import { d1Replica } from "../core/stores/d1-replica";
import { supabaseFromEnv } from "./wiring/supabase-from-env";
import { supabaseReplica } from "../core/stores/supabase-replica";
import { recordFailedTasks } from "../consumers/dead-letter";
import { consumeControlBatch } from "../consumers/control-queue";
import { kick, runJobTick } from "./services/replay-jobs";
import { queueBindings } from "../producers/publish";
import { noAlerts, webhookAlerts } from "../core/ledger/alerts";
import { replayStores } from "./services/entity-stores";
import { DEFAULT_QUARANTINE_AFTER } from "../core/ledger/record-failures";
import { numberSetting } from "../core/settings";
import { breakers } from "./wiring/breakers";
import { guardedTarget } from "../consumers/guarded-target";
import { consumeWorkBatch } from "../consumers/work-queue";


/** Dispatches a queue batch by queue name (wrangler.toml declares exactly these). */
export async function routeQueueBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  switch (batch.queue) {
    case QUEUES.toD1:
      await consumeWorkBatch(
        { queue: QUEUES.toD1, target: guardedTarget(d1Replica(env.DB), breakers.d1), db: env.DB, dlq: env.TO_D1_DLQ },
        batch,
      );
      return;
    case QUEUES.toSupabase: {
      let rpc: ReturnType<typeof supabaseFromEnv>;
      try {
        rpc = supabaseFromEnv(env);
      } catch (error) {
        console.error(JSON.stringify({ msg: "supabase not configured", error: String(error) }));
        batch.retryAll({ delaySeconds: 300 });
        return;
      }
      await consumeWorkBatch(
        { queue: QUEUES.toSupabase, target: guardedTarget(supabaseReplica(rpc), breakers.supabase), db: env.DB, dlq: env.TO_SUPABASE_DLQ },
        batch,
      );
      return;
    }
    case QUEUES.toD1Dlq:
    case QUEUES.toSupabaseDlq:
      await recordFailedTasks(
        {
          db: env.DB,
          alert: env.ALERT_WEBHOOK_URL ? webhookAlerts(env.ALERT_WEBHOOK_URL, env.ALERT_WEBHOOK_SECRET) : noAlerts,
          quarantineAfter: numberSetting(env.REPLAY_QUARANTINE_AFTER, DEFAULT_QUARANTINE_AFTER),
        },
        batch,
      );
      return;
    case CONTROL_QUEUE:
      const jobs = { db: env.DB, queues: queueBindings(env), stores: replayStores(env.DB, () => supabaseFromEnv(env)) };
      await consumeControlBatch(
        { runTick: (jobId) => runJobTick(jobs, jobId), kick: (jobId, delaySeconds) => kick(env.CONTROL, jobId, delaySeconds) },
        batch,
      );
      return;
    default:
      // A queue we do not know: never ack what we cannot handle.
      console.error(JSON.stringify({ msg: "unknown queue", queue: batch.queue }));
      batch.retryAll({ delaySeconds: 300 });
  }
}

