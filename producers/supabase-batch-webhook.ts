import type { SyncEvent } from "../schemas/event";
import { MAX_BATCH_WEBHOOK_ROWS, supabaseBatchWebhookSchema } from "../schemas/webhook-payload";
import { describe, ValidationError } from "../core/errors";
import { formatIssues } from "../core/zod-issues";
import { assertEventFits } from "./publish";
import { deleteEvent, upsertEvent, webhookEntity } from "./supabase-webhook";

/** A row of a batch that will not be queued, and why. `index` is its position in the request. */
export interface RejectedRow {
  index: number;
  id: string | null;
  code: string;
  message: string;
}

export interface BatchEvents {
  entity: string;
  type: "INSERT" | "UPDATE" | "DELETE";
  events: SyncEvent[];
  rejected: RejectedRow[];
  /** Rows the trigger left out as too large for a queue message (the change-log sweep records them). */
  skipped: number;
  chunk?: number;
  chunks?: number;
}

/**
 * Turns one statement-capture request (sync.capture_statement) into events. The request as a
 * whole must be well formed (shape, a synced Supabase-authoritative table, at most
 * MAX_BATCH_WEBHOOK_ROWS rows), or it is refused with one error. Rows are judged one by one, with
 * the registry, exactly as a row-level webhook is: a row that can never become a queue message
 * (SCHEMA_VIOLATION, EVENT_TOO_LARGE) is reported in `rejected` and the others go on.
 *
 * Why accept the valid rows and not refuse the request: pg_net does not retry, so a refused
 * request leaves every one of its rows to the change-log sweep (a minute or more). One bad row
 * would delay up to 500 good ones and change nothing for itself: the sweep meets it in the change
 * log too and records it in failed_tasks with its reason. Nothing is lost either way.
 */
export function eventsFromBatch(body: unknown, traceId: string): BatchEvents {
  const parsed = supabaseBatchWebhookSchema.safeParse(body);
  if (!parsed.success) {
    throw new ValidationError("INVALID_PAYLOAD", `not a statement-capture payload: ${formatIssues(parsed.error)}`);
  }
  const payload = parsed.data;
  const rows = payload.type === "DELETE" ? payload.old_records : payload.records;
  if (rows.length > MAX_BATCH_WEBHOOK_ROWS) {
    throw new ValidationError(
      "TOO_MANY_ROWS",
      `${rows.length} rows in one request; at most ${MAX_BATCH_WEBHOOK_ROWS} (reinstall the triggers with a smaller --batch-rows)`,
      { rows: rows.length, limit: MAX_BATCH_WEBHOOK_ROWS },
      413,
    );
  }
  const entity = webhookEntity(payload.schema, payload.table);
  const events: SyncEvent[] = [];
  const rejected: RejectedRow[] = [];
  rows.forEach((row, index) => {
    try {
      const event = payload.type === "DELETE" ? deleteEvent(entity, row, traceId) : upsertEvent(entity, row, traceId);
      assertEventFits(event);
      events.push(event);
    } catch (error) {
      const { code, message } = describe(error);
      rejected.push({ index, id: rowId(row), code, message });
    }
  });
  return {
    entity: entity.name,
    type: payload.type,
    events,
    rejected,
    skipped: payload.skipped ?? 0,
    chunk: payload.chunk,
    chunks: payload.chunks,
  };
}

function rowId(row: unknown): string | null {
  const id = (row as { id?: unknown } | null)?.id;
  return typeof id === "string" ? id : null;
}
