import { QUEUES } from "../schemas/registry";
import type { Env } from "../src/env";
import { d1Replica } from "../src/stores/d1-replica";
import { supabaseFromEnv } from "../src/stores/supabase-from-env";
import { supabaseReplica } from "../src/stores/supabase-replica";
import { recordFailedTasks } from "./dead-letter";
import { CircuitBreaker } from "../src/lib/circuit-breaker";
import { guardedTarget } from "./guarded-target";
import { consumeWorkBatch } from "./work-queue";

/** Per isolate, shared by every batch it consumes (see CircuitBreaker). */
export const breakers = { d1: new CircuitBreaker("D1"), supabase: new CircuitBreaker("Supabase") };

/** Dispatches a queue batch by queue name (wrangler.toml declares exactly these four). */
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
      await recordFailedTasks(env.DB, batch);
      return;
    default:
      // A queue we do not know: never ack what we cannot handle.
      console.error(JSON.stringify({ msg: "unknown queue", queue: batch.queue }));
      batch.retryAll({ delaySeconds: 300 });
  }
}

