import type { Env } from "../../src/env";
import worker from "../../src/index";

/**
 * The real worker wrapped with faults the platform can produce, for `npm run chaos` only
 * (wrangler dev test/chaos-worker/index.ts). Nothing here ships: production runs src/index.ts.
 *
 * - CHAOS_D1_ERROR_RATE: a consumer's D1 batch fails before executing ("Network connection lost").
 * - CHAOS_CRASH_RATE: a work-queue consumer dies after its transaction committed and before the
 *   runtime heard of any ack, so the whole batch is delivered again.
 */
interface ChaosEnv extends Env {
  CHAOS_D1_ERROR_RATE?: string;
  CHAOS_CRASH_RATE?: string;
}

const rate = (v: string | undefined) => Math.min(1, Math.max(0, Number(v ?? 0) || 0));

function withFaultyD1(env: ChaosEnv): ChaosEnv {
  const p = rate(env.CHAOS_D1_ERROR_RATE);
  if (p === 0) return env;
  const db = env.DB;
  const faulty = {
    prepare: db.prepare.bind(db),
    exec: db.exec.bind(db),
    dump: db.dump.bind(db),
    withSession: db.withSession.bind(db),
    batch: async <T>(statements: D1PreparedStatement[]) => {
      if (Math.random() < p) throw new Error("D1_ERROR: Network connection lost. (chaos)");
      return db.batch<T>(statements);
    },
  } as D1Database;
  return { ...env, DB: faulty };
}

function muted(batch: MessageBatch<unknown>): MessageBatch<unknown> {
  const silent = () => {};
  return {
    queue: batch.queue,
    metadata: batch.metadata,
    messages: batch.messages.map((m) => ({
      id: m.id,
      body: m.body,
      attempts: m.attempts,
      timestamp: m.timestamp,
      ack: silent,
      retry: silent,
    })),
    ackAll: silent,
    retryAll: silent,
  } as MessageBatch<unknown>;
}

export default {
  fetch: (request, env, ctx) => worker.fetch!(request, env, ctx),
  scheduled: (controller, env, ctx) => worker.scheduled!(controller, env, ctx),
  async queue(batch, env) {
    const faulty = withFaultyD1(env);
    const work = batch.queue === "to-d1" || batch.queue === "to-supabase";
    if (work && Math.random() < rate(env.CHAOS_CRASH_RATE)) {
      await worker.queue!(muted(batch), faulty);
      throw new Error("chaos: consumer died after its batch committed, before acking");
    }
    await worker.queue!(batch, faulty);
  },
} satisfies ExportedHandler<ChaosEnv>;
