import { CircuitBreaker } from "../../core/circuit-breaker";
import type { Held, ReplicaTarget } from "../../core/apply-batch";
import { jsonChunks } from "../../core/batching/json-chunks";
import { d1ApplySql } from "../../core/stores/d1-apply-sql";
import { d1Replica, groupByEntity, readBackStatements, readInto } from "../../core/stores/d1-replica";
import type { ValidEvent } from "../../core/validate-event";
import { guardedTarget } from "../../consumers/guarded-target";
import { sampledBatchLog } from "../../consumers/batch-log";
import { consumeWorkBatch } from "../../consumers/work-queue";
import { entityByName } from "../../schemas/registry";
import { prospects } from "../../schemas/entities/prospects";
import type { Env } from "../../src/env";
import { replicaApplyVariant, upsertStatementVariant, type Variant } from "./d1-variants";
import { upsertEvent } from "./rows";
import { syntheticBatch } from "./synthetic-batch";

/**
 * The D1 apply as it was before RETURNING (main at 4fc27c7), kept so one bench run measures
 * before and after side by side: the upsert, then the read-back of every event in the same
 * batch(). Upserts only, which is all the throughput phase sends.
 */
export function d1ReplicaBefore(db: D1Database): ReplicaTarget {
  return {
    store: "d1",
    async apply(events: ValidEvent[]) {
      const statements: D1PreparedStatement[] = [];
      const readBacks: number[] = [];
      for (const [name, group] of groupByEntity(events)) {
        const sql = d1ApplySql(entityByName(name)!);
        for (const chunk of jsonChunks(group.map((e) => e.row)))
          statements.push(db.prepare(sql.upsert).bind(JSON.stringify(chunk)));
        for (const s of readBackStatements(db, sql, group)) readBacks.push(statements.push(s) - 1);
      }
      const results = await db.batch(statements);
      const held = new Map<string, Held>();
      for (const position of readBacks) readInto(held, results[position]!);
      return held;
    },
  };
}

const breakers = { before: new CircuitBreaker("D1 (before)"), after: new CircuitBreaker("D1 (after)") };
const logs = { before: sampledBatchLog(), after: sampledBatchLog() };

/** consumeWorkBatch as src/queue.ts wires it for to-d1, on the given replica. */
function directConsumer(name: string, which: "before" | "after", target: (db: D1Database) => ReplicaTarget): Variant {
  return {
    name,
    prepare: (rows) => rows.map((r) => upsertEvent(prospects.name as "prospects", r, "supabase-webhook")),
    async run(env: Env, bodies) {
      const { batch, counts } = syntheticBatch("to-d1", bodies as unknown[]);
      await consumeWorkBatch(
        {
          queue: "to-d1",
          target: guardedTarget(target(env.DB), breakers[which]),
          db: env.DB,
          dlq: env.TO_D1_DLQ,
          log: logs[which],
        },
        batch,
      );
      if (counts.acked !== batch.messages.length) throw new Error(`${name} acked ${counts.acked}`);
    },
  };
}

/** Before / after, the same harness for both (the `consumer` variant goes through worker.queue). */
export const BEFORE_AFTER_VARIANTS: Record<string, Variant> = {
  "consumer-before": directConsumer("consumer-before", "before", d1ReplicaBefore),
  "consumer-after": directConsumer("consumer-after", "after", d1Replica),
  /** Breakdown: the replica's upsert with RETURNING alone (what the answer adds to the statement). */
  "replica-upsert-returning": upsertStatementVariant("replica-upsert-returning", d1ApplySql(prospects).upsertReturning),
  "replica-apply-before": replicaApplyVariant("replica-apply-before", d1ReplicaBefore),
};
