import type { SyncEvent } from "../schemas/event";
import type { DeadLetter } from "../schemas/dead-letter";
import type { QueueName } from "../schemas/registry";
import { sendBatches } from "../core/batching/send-batches";
import { utcNow } from "../core/utc";
import { boundedMessage } from "../core/errors";
import { settleReplayStatements, type SettledReplay } from "../core/ledger/task-transitions";
import { applyBatch, type Outcome, type ReplicaTarget } from "../core/apply-batch";
import { batchCounts, batchMetricsStatement } from "../core/metrics/batch-metrics";
import { classifyD1Error } from "../core/stores/d1-errors";
import { decide } from "./retry-policy";
import { everyBatchLog, type BatchLog, type BatchSummary } from "./batch-log";

export interface WorkQueueDeps {
  queue: QueueName;
  target: ReplicaTarget;
  /** D1 holds failed_tasks and bookkeeping, whichever store the queue writes to. */
  db: D1Database;
  dlq: Queue;
  random?: () => number;
  /** The clock the batch's metrics are bucketed and its lag measured by (tests fix it). */
  now?: () => number;
  /** Where the batch's summary goes; one line per batch when not given. */
  log?: BatchLog;
}

/**
 * Consumes one batch of a work queue (to-d1 or to-supabase): applies it in one round trip, then
 * acks, retries or dead-letters each message by its own outcome.
 * A crash anywhere before the acks leaves every message unacknowledged, so Cloudflare redelivers
 * the whole batch, and re-applying it is a no-op for what had committed (version rule).
 */
export async function consumeWorkBatch(deps: WorkQueueDeps, batch: MessageBatch<unknown>): Promise<BatchSummary> {
  const messages = batch.messages;
  const outcomes = await applyBatch(
    deps.target,
    messages.map((m) => m.body),
  );
  const summary: BatchSummary = {
    queue: deps.queue,
    messages: messages.length,
    applied: 0,
    stale: 0,
    retried: 0,
    deadLettered: 0,
  };
  const deadLetters: Array<{ message: Message<unknown>; letter: DeadLetter }> = [];

  messages.forEach((message, i) => {
    const outcome = outcomes[i]!;
    const decision = decide(outcome, message.attempts, deps.random);
    if (decision.action === "ack") {
      summary[outcome.kind === "applied" ? "applied" : "stale"]++;
      message.ack();
    } else if (decision.action === "retry") {
      summary.retried++;
      message.retry({ delaySeconds: decision.delaySeconds });
    } else {
      deadLetters.push({
        message,
        letter: {
          kind: "dead-letter",
          queue: deps.queue,
          message_id: message.id,
          attempts: message.attempts,
          failed_at: utcNow(),
          error: { ...decision.error, message: boundedMessage(decision.error.message) },
          event: message.body,
        },
      });
    }
  });

  for (const chunk of sendBatches(deadLetters, (d) => d.letter)) {
    try {
      await deps.dlq.sendBatch(chunk.map((d) => ({ body: d.letter, contentType: "json" as const })));
      for (const d of chunk) d.message.ack();
      summary.deadLettered += chunk.length;
    } catch (error) {
      // Not on the DLQ yet: keep the message alive and try again shortly.
      console.error(JSON.stringify({ msg: "dead-letter send failed", queue: deps.queue, error: String(error) }));
      for (const d of chunk) d.message.retry({ delaySeconds: 30 });
      summary.retried += chunk.length;
    }
  }

  await recordBookkeeping(deps.db, deps.queue, messages, outcomes, deps.now?.() ?? Date.now());
  (deps.log ?? everyBatchLog).record(summary);
  return summary;
}

/**
 * Best effort after the acks were decided: settle replayed failed tasks (resolved when the replay
 * applied, superseded when the replica already held the same or a newer version) with a history
 * line each, resolve failure groups that have nothing left open, update per-entity counters and
 * add the batch to the per-minute metrics (sync_metrics), all in one transaction and round trip.
 * A failure here must not undo or retry applied work.
 */
async function recordBookkeeping(
  db: D1Database,
  queue: string,
  messages: readonly Message<unknown>[],
  outcomes: Outcome[],
  nowMs: number,
): Promise<void> {
  const settled: SettledReplay[] = [];
  const perEntity = new Map<
    string,
    { entity: string; last_event_id: string; last_event_at: string; applied: number; stale: number; failed: number }
  >();
  messages.forEach((m, i) => {
    const event = m.body as Partial<SyncEvent>;
    const outcome = outcomes[i]!;
    if (typeof event?.entity !== "string" || typeof event.id !== "string") return;
    const stats = perEntity.get(event.entity) ?? {
      entity: event.entity,
      last_event_id: "",
      last_event_at: "",
      applied: 0,
      stale: 0,
      failed: 0,
    };
    stats[outcome.kind]++;
    if (outcome.kind === "applied" && event.id > stats.last_event_id) {
      stats.last_event_id = event.id;
      stats.last_event_at = String(event.occurred_at ?? "");
    }
    perEntity.set(event.entity, stats);
    const replay = event.replay;
    if (outcome.kind !== "failed" && replay?.task_id) {
      settled.push({
        task_id: replay.task_id,
        kind: outcome.kind === "applied" ? "resolved" : "superseded",
        event_id: event.id,
        job_id: replay.job_id ?? null,
        mode: replay.mode ?? null,
        by: replay.by ?? null,
        key: `${replay.replayed_at}:${m.id}`,
      });
    }
  });
  if (settled.length)
    console.log(
      JSON.stringify({
        msg: "replays settled",
        queue,
        replays: settled.map((r) => ({ task: r.task_id, job: r.job_id, outcome: r.kind, by: r.by })),
      }),
    );
  const now = new Date(nowMs).toISOString();
  const statements = [
    db
      .prepare(
        `INSERT INTO sync_entity_state (entity, last_event_id, last_event_at, last_applied_at, applied_total, stale_total, failed_total)
         SELECT json_extract(j.value, '$.entity'), nullif(json_extract(j.value, '$.last_event_id'), ''),
                nullif(json_extract(j.value, '$.last_event_at'), ''), ?2,
                json_extract(j.value, '$.applied'), json_extract(j.value, '$.stale'), json_extract(j.value, '$.failed')
           FROM json_each(?1) j WHERE true
         ON CONFLICT (entity) DO UPDATE SET
           last_event_id = CASE WHEN excluded.last_event_id > coalesce(sync_entity_state.last_event_id, '')
                                THEN excluded.last_event_id ELSE sync_entity_state.last_event_id END,
           last_event_at = CASE WHEN excluded.last_event_id > coalesce(sync_entity_state.last_event_id, '')
                                THEN excluded.last_event_at ELSE sync_entity_state.last_event_at END,
           last_applied_at = excluded.last_applied_at,
           applied_total = sync_entity_state.applied_total + excluded.applied_total,
           stale_total = sync_entity_state.stale_total + excluded.stale_total,
           failed_total = sync_entity_state.failed_total + excluded.failed_total`,
      )
      .bind(JSON.stringify([...perEntity.values()]), now),
  ];
  if (settled.length) statements.push(...settleReplayStatements(db, queue, settled, now));
  const counts = batchCounts(
    messages.map((m) => m.body),
    outcomes.map((o) => o.kind),
    nowMs,
  );
  const metrics = batchMetricsStatement(db, queue, counts, nowMs);
  try {
    await db.batch([...statements, metrics]);
  } catch (error) {
    // The metrics upsert shares the transaction, so if it were what D1 refused (say the migration
    // creating sync_metrics is not applied yet), the settlement would be rolled back with it. A
    // refusal (a permanent D1 error) means nothing committed: write the rest again without the
    // metrics, losing only this batch's chart points. A transient error may have committed, so it
    // is not repeated (counters would double); the next batch's bookkeeping goes on as before.
    console.error(JSON.stringify({ msg: "bookkeeping failed", queue, error: String(error) }));
    if (classifyD1Error(error).retryable) return;
    try {
      await db.batch(statements);
      console.error(JSON.stringify({ msg: "bookkeeping written without this batch's metrics", queue }));
    } catch (again) {
      console.error(JSON.stringify({ msg: "bookkeeping failed without metrics too", queue, error: String(again) }));
    }
  }
}
