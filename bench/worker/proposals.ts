import { guardedTarget } from "../../consumers/guarded-target";
import { consumeWorkBatch } from "../../consumers/work-queue";
import { prospects } from "../../schemas/entities/prospects";
import type { SyncEvent } from "../../schemas/event";
import type { Env } from "../../src/env";
import { CircuitBreaker } from "../../core/circuit-breaker";
import { utcNow } from "../../core/utc";
import { d1Replica } from "../../core/stores/d1-replica";
import type { Variant } from "./d1-variants";
import { upsertEvent } from "./rows";
import { syntheticBatch } from "./synthetic-batch";

/**
 * Measured prototypes of changes proposed in bench/RESULTS.md (not part of the pipeline).
 * (The former "proposal-inline-json" prototype is applied: postgresRpc in
 * core/stores/supabase-postgres.ts now inlines its arguments. Proposed Supabase SQL, measured by
 * bench/profile-postgres.ts, is in ./proposed-sql.ts.)
 *
 * "proposal-one-txn" (to-d1). A measured prototype of a change proposed in bench/RESULTS.md (not part of the pipeline):
 * the to-d1 consumer writing its bookkeeping (sync_entity_state counters, replayed tasks
 * resolved) in the same D1 batch() as the apply, instead of a second transaction afterwards.
 *
 * It runs the real consumeWorkBatch and d1Replica; only the D1 handle differs: the apply batch
 * gets one more statement that derives applied/stale from the versions D1 holds after the upsert
 * (so it needs no answer from the first statements), and the consumer's own bookkeeping write
 * becomes a no-op. If the transaction commits, every event in it is applied or stale, so every
 * replayed task in it is resolved: the same outcome the separate write records today.
 */
const E = "'prospects'";
const BOOKKEEPING_IN_TXN_SQL = `
INSERT INTO sync_entity_state (entity, last_event_id, last_event_at, last_applied_at, applied_total, stale_total, failed_total)
SELECT ${E}, substr(max(CASE WHEN cur = version THEN event_id || '|' || occurred_at END), 1, 26),
       substr(max(CASE WHEN cur = version THEN event_id || '|' || occurred_at END), 28), ?2,
       sum(cur = version), sum(cur > version), 0
  FROM (SELECT json_extract(j.value, '$.event_id') AS event_id, json_extract(j.value, '$.occurred_at') AS occurred_at,
               json_extract(j.value, '$.version') AS version,
               max(coalesce((SELECT r.version FROM prospects r WHERE r.id = json_extract(j.value, '$.id')), 0),
                   coalesce((SELECT s.version FROM sync_tombstones s WHERE s.entity = ${E} AND s.id = json_extract(j.value, '$.id')), 0)) AS cur
          FROM json_each(?1) j)
 WHERE true
ON CONFLICT (entity) DO UPDATE SET
  last_event_id = CASE WHEN excluded.last_event_id > coalesce(sync_entity_state.last_event_id, '') THEN excluded.last_event_id ELSE sync_entity_state.last_event_id END,
  last_event_at = CASE WHEN excluded.last_event_id > coalesce(sync_entity_state.last_event_id, '') THEN excluded.last_event_at ELSE sync_entity_state.last_event_at END,
  last_applied_at = excluded.last_applied_at,
  applied_total = sync_entity_state.applied_total + excluded.applied_total,
  stale_total = sync_entity_state.stale_total + excluded.stale_total,
  failed_total = sync_entity_state.failed_total + excluded.failed_total`;

const breaker = new CircuitBreaker("D1 (prototype)");

export const PROPOSAL_VARIANTS: Record<string, Variant> = {
  "proposal-one-txn": {
    name: "proposal-one-txn",
    prepare: (rows) => rows.map((r) => upsertEvent(prospects.name as "prospects", r, "supabase-webhook")),
    async run(env: Env, input) {
      const bodies = input as SyncEvent[];
      const events = JSON.stringify(
        bodies.map((e) => ({ event_id: e.id, occurred_at: e.occurred_at, id: e.key.id, version: e.version })),
      );
      const bookkeeping = env.DB.prepare(BOOKKEEPING_IN_TXN_SQL).bind(events, utcNow());
      const oneTxn = {
        prepare: (sql: string) => env.DB.prepare(sql),
        batch: (statements: D1PreparedStatement[]) => env.DB.batch([...statements, bookkeeping]),
      } as unknown as D1Database;
      const noSecondWrite = {
        prepare: (sql: string) => env.DB.prepare(sql),
        batch: async () => [],
      } as unknown as D1Database;
      const { batch, counts } = syntheticBatch("to-d1", bodies);
      await consumeWorkBatch(
        { queue: "to-d1", target: guardedTarget(d1Replica(oneTxn), breaker), db: noSecondWrite, dlq: env.TO_D1_DLQ },
        batch,
      );
      if (counts.acked !== bodies.length) throw new Error(`prototype acked ${counts.acked}/${bodies.length}`);
    },
  },
};
