import { makeEvent, type SyncEvent } from "../schemas/event";
import type { EntityName } from "../schemas/registry";
import { describe } from "../src/lib/errors";
import { utcNow } from "../src/lib/utc";
import { publishEvents, type QueueBindings } from "./publish";

/** A row of D1's sync_outbox, written by triggers in the same transaction as the change. */
export interface OutboxRow {
  seq: number;
  entity: string;
  row_id: string;
  op: "upsert" | "delete";
  version: number;
  row_image: string | null;
}

export const OUTBOX_COLUMNS = "seq, entity, row_id, op, version, row_image";

export function eventFromOutbox(row: OutboxRow, source: SyncEvent["source"], traceId: string): SyncEvent {
  return makeEvent({
    entity: row.entity as EntityName,
    op: row.op,
    key: { id: row.row_id },
    version: row.version,
    row: row.row_image === null ? null : (JSON.parse(row.row_image) as Record<string, unknown>),
    source,
    trace_id: traceId,
  });
}

/**
 * Publishes outbox rows and marks them published. If the queue refuses, the rows stay
 * unpublished and the outbox sweep sends them later: the write itself has already committed.
 */
export async function publishOutbox(
  deps: { db: D1Database; queues: QueueBindings },
  rows: OutboxRow[],
  source: SyncEvent["source"],
  traceId: string,
): Promise<{ published: boolean; error?: ReturnType<typeof describe> }> {
  if (rows.length === 0) return { published: true };
  try {
    await publishEvents(deps.queues, rows.map((r) => eventFromOutbox(r, source, traceId)));
  } catch (error) {
    return { published: false, error: describe(error) };
  }
  await deps.db
    .prepare("UPDATE sync_outbox SET published_at = ?1 WHERE seq IN (SELECT value FROM json_each(?2))")
    .bind(utcNow(), JSON.stringify(rows.map((r) => r.seq)))
    .run();
  return { published: true };
}

/**
 * Scheduled: republishes outbox rows that are still unpublished after `graceSeconds` (the API
 * crashed or the queue refused between commit and publish). Duplicates are harmless (version rule).
 */
export async function sweepOutbox(
  deps: { db: D1Database; queues: QueueBindings },
  opts: { graceSeconds?: number; limit?: number } = {},
): Promise<{ republished: number; error?: ReturnType<typeof describe> }> {
  const cutoff = new Date(Date.now() - (opts.graceSeconds ?? 30) * 1000).toISOString();
  const { results } = await deps.db
    .prepare(`SELECT ${OUTBOX_COLUMNS} FROM sync_outbox WHERE published_at IS NULL AND created_at <= ?1 ORDER BY seq LIMIT ?2`)
    .bind(cutoff, opts.limit ?? 500)
    .all<OutboxRow>();
  const outcome = await publishOutbox(deps, results, "d1-outbox", `outbox-sweep-${Date.now()}`);
  return { republished: outcome.published ? results.length : 0, error: outcome.error };
}
