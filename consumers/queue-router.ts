import { CONTROL_QUEUE, QUEUES } from "../schemas/registry";
import type { Env } from "../src/env";
import { d1Replica } from "../src/stores/d1-replica";
import { supabaseFromEnv } from "../src/stores/supabase-from-env";
import { supabaseReplica } from "../src/stores/supabase-replica";
import { recordFailedTasks } from "./dead-letter";
import { consumeControlBatch } from "./control-queue";
import { queueBindings } from "../producers/publish";
import { noAlerts, webhookAlerts } from "../src/services/alerts";
import { replayStores } from "../src/services/entity-stores";
import { DEFAULT_QUARANTINE_AFTER } from "../src/services/record-failures";
import { numberSetting } from "../src/lib/settings";
import { CircuitBreaker } from "../src/lib/circuit-breaker";
import { guardedTarget } from "./guarded-target";
import { consumeWorkBatch } from "./work-queue";

/** Per isolate, shared by every batch it consumes (see CircuitBreaker). */
export const breakers = { d1: new CircuitBreaker("D1"), supabase: new CircuitBreaker("Supabase") };

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
      await consumeControlBatch(
        { db: env.DB, queues: queueBindings(env), stores: replayStores(env.DB, () => supabaseFromEnv(env)), control: env.CONTROL },
        batch,
      );
      return;
    default:
      // A queue we do not know: never ack what we cannot handle.
      console.error(JSON.stringify({ msg: "unknown queue", queue: batch.queue }));
      batch.retryAll({ delaySeconds: 300 });
  }
}

