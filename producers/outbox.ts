import { derivedEventId, makeEvent, type SyncEvent } from "../schemas/event";
import { entityByName, QUEUES, type EntityName } from "../schemas/registry";
import { describe, ValidationError } from "../core/errors";
import { utcNow } from "../core/utc";
import { SETTINGS } from "../core/settings";
import { failureRow, insertFailedTasks } from "../core/ledger/record-failures";
import { publishIsolated, type QueueBindings } from "./publish";

/** A row of D1's sync_outbox, written by triggers in the same transaction as the change. */
export interface OutboxRow {
  seq: number;
  entity: string;
  row_id: string;
  op: "upsert" | "delete";
  version: number;
  row_image: string | null;
  created_at: string;
}

export const OUTBOX_COLUMNS = "seq, entity, row_id, op, version, row_image, created_at";

/**
 * The event for an outbox row. Its id is derived from the row's seq, so every publication of the
 * row (the API's, each sweep's) carries the same id, and a failure recorded for it is recorded once.
 */
export async function eventFromOutbox(
  row: OutboxRow,
  source: SyncEvent["source"],
  traceId: string,
): Promise<SyncEvent> {
  let image: Record<string, unknown> | null = null;
  if (row.row_image !== null) {
    try {
      image = JSON.parse(row.row_image) as Record<string, unknown>;
    } catch (error) {
      throw new ValidationError(
        "INVALID_EVENT",
        `outbox row ${row.seq} holds a row image that is not JSON: ${(error as Error).message}`,
        undefined,
        422,
      );
    }
  }
  const event = makeEvent({
    entity: row.entity as EntityName,
    op: row.op,
    key: { id: row.row_id },
    version: row.version,
    row: image,
    source,
    trace_id: traceId,
  });
  return { ...event, id: await outboxEventId(row) };
}

const outboxSeed = (row: Pick<OutboxRow, "seq">) => `outbox:${row.seq}`;
const outboxEventId = (row: OutboxRow) => derivedEventId(outboxSeed(row), Date.parse(row.created_at));

export interface OutboxOutcome {
  /** Rows now on the queue. */
  published: number;
  /** Rows that can never be queued: recorded in failed_tasks and settled, never retried. */
  failed: number;
  /** Rows left unpublished by a queue outage, for the next sweep. */
  unsent: number;
  error?: ReturnType<typeof describe>;
}

/**
 * Publishes outbox rows and settles them. A row on the queue gets `published_at`. A row that can
 * never be queued (too large, unknown entity, not an event) is recorded in failed_tasks, then
 * settled with `published_at` and its `failed_reason`, so it neither blocks the rows after it nor
 * is sent again: the failed task holds it for operators. If the queue is unavailable, the rows stay
 * unpublished and the outbox sweep sends them later: the write itself has already committed.
 *
 * Crash-safe in any order: a failed task is keyed by the row (derived event id, message id
 * `outbox:<seq>`), so recording it again after a crash changes nothing.
 */
export async function publishOutbox(
  deps: { db: D1Database; queues: QueueBindings },
  rows: OutboxRow[],
  source: SyncEvent["source"],
  traceId: string,
): Promise<OutboxOutcome> {
  if (rows.length === 0) return { published: 0, failed: 0, unsent: 0 };
  // Built up front (the event id is a digest, so async); an unbuildable row is judged with the rest.
  const built = new Map<number, { event: SyncEvent } | { id: string; error: unknown }>();
  for (const row of rows) {
    try {
      built.set(row.seq, { event: await eventFromOutbox(row, source, traceId) });
    } catch (error) {
      built.set(row.seq, { id: await outboxEventId(row), error });
    }
  }
  const outcome = await publishIsolated(deps.queues, rows, (row) => {
    const b = built.get(row.seq)!;
    if ("error" in b) throw b.error;
    return b.event;
  });

  const now = utcNow();
  const failures = outcome.rejected.map(({ item: row, event, error }) => {
    const b = built.get(row.seq)!;
    return failureRow({
      // The outbox holds D1-authoritative changes only: they all belong on to-supabase.
      queue: QUEUES.toSupabase,
      // A row that is not an event is kept as it is, under the id its event would have had.
      event: event ?? {
        id: "id" in b ? b.id : undefined,
        entity: row.entity,
        op: row.op,
        key: { id: row.row_id },
        version: row.version,
        row_image: row.row_image,
      },
      error_code: error.code,
      error_message: error.message,
      retryable: 0,
      attempts: 0,
      last_message_id: outboxSeed(row),
      failed_at: now,
    });
  });
  // Record first, settle second: a crash in between re-records (a no-op) and settles next time.
  if (failures.length) await insertFailedTasks(deps.db, failures);

  const settle: D1PreparedStatement[] = [];
  if (outcome.published.length) {
    settle.push(
      deps.db
        .prepare("UPDATE sync_outbox SET published_at = ?1 WHERE seq IN (SELECT value FROM json_each(?2))")
        .bind(now, JSON.stringify(outcome.published.map((r) => r.seq))),
    );
  }
  if (outcome.rejected.length) {
    const reasons = outcome.rejected.map((r) => ({ seq: r.item.seq, reason: `${r.error.code}: ${r.error.message}` }));
    settle.push(
      deps.db
        .prepare(
          `UPDATE sync_outbox
              SET published_at = ?1,
                  failed_reason = (SELECT json_extract(j.value, '$.reason') FROM json_each(?2) j WHERE json_extract(j.value, '$.seq') = sync_outbox.seq)
            WHERE seq IN (SELECT json_extract(value, '$.seq') FROM json_each(?2))`,
        )
        .bind(now, JSON.stringify(reasons)),
    );
  }
  if (settle.length) await deps.db.batch(settle);
  return {
    published: outcome.published.length,
    failed: outcome.rejected.length,
    unsent: outcome.unsent.length,
    error: outcome.error,
  };
}

/**
 * Scheduled: republishes outbox rows that are still unpublished after `graceSeconds` (the API
 * crashed or the queue refused between commit and publish). Duplicates are harmless (version
 * rule). A row that can never be queued is recorded once and settled, so it cannot wedge the
 * rows after it; a queue outage leaves the rest for the next run.
 */
export async function sweepOutbox(
  deps: { db: D1Database; queues: QueueBindings },
  opts: { graceSeconds?: number; limit?: number } = {},
): Promise<{ republished: number; failed: number; unsent: number; error?: ReturnType<typeof describe> }> {
  const cutoff = new Date(
    Date.now() - (opts.graceSeconds ?? SETTINGS.SWEEP_GRACE_SECONDS.default) * 1000,
  ).toISOString();
  const { results } = await deps.db
    .prepare(
      `SELECT ${OUTBOX_COLUMNS} FROM sync_outbox WHERE published_at IS NULL AND created_at <= ?1 ORDER BY seq LIMIT ?2`,
    )
    .bind(cutoff, opts.limit ?? 500)
    .all<OutboxRow>();
  const outcome = await publishOutbox(deps, results, "d1-outbox", `outbox-sweep-${Date.now()}`);
  return { republished: outcome.published, failed: outcome.failed, unsent: outcome.unsent, error: outcome.error };
}
