import { z } from "zod";

/**
 * What a Supabase Database Webhook POSTs (supabase_functions.http_request):
 * `{ type, table, schema, record, old_record }`. `record` is null for DELETE and `old_record`
 * is null for INSERT.
 */
export const supabaseWebhookSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("INSERT"),
    table: z.string(),
    schema: z.string(),
    record: z.record(z.string(), z.unknown()),
    old_record: z.null().optional(),
  }),
  z.object({
    type: z.literal("UPDATE"),
    table: z.string(),
    schema: z.string(),
    record: z.record(z.string(), z.unknown()),
    old_record: z.record(z.string(), z.unknown()).nullable().optional(),
  }),
  z.object({
    type: z.literal("DELETE"),
    table: z.string(),
    schema: z.string(),
    record: z.null().optional(),
    old_record: z.record(z.string(), z.unknown()),
  }),
]);

export type SupabaseWebhookPayload = z.infer<typeof supabaseWebhookSchema>;

/**
 * Statement-level capture (migrations/supabase/0011_statement_capture.sql): one request carries
 * the rows of one chunk of one statement. Limits the trigger is installed with
 * (tools/deploy/webhooks-sql.ts) and the batch endpoint enforces:
 * - rows per request: the endpoint refuses more than MAX_BATCH_WEBHOOK_ROWS (TOO_MANY_ROWS); the
 *   triggers send DEFAULT_BATCH_ROWS, 5 sendBatch calls of 100 messages;
 * - bytes: the triggers fill a request up to DEFAULT_BATCH_BYTES of row text plus at most one row
 *   of MAX_EVENT_BYTES (the row that crosses the budget), well inside BATCH_WEBHOOK_BODY_LIMIT.
 */
export const MAX_BATCH_WEBHOOK_ROWS = 1000;
export const DEFAULT_BATCH_ROWS = 500;
export const DEFAULT_BATCH_BYTES = 512 * 1024;
export const BATCH_WEBHOOK_BODY_LIMIT = 1024 * 1024;

const chunkFields = {
  table: z.string(),
  schema: z.string(),
  /** 1-based position of this request among the statement's requests, and their number. */
  chunk: z.number().int().positive().optional(),
  chunks: z.number().int().positive().optional(),
  /** Rows of the statement left out because they could never be one queue message. */
  skipped: z.number().int().nonnegative().optional(),
};

export const supabaseBatchWebhookSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("INSERT"), ...chunkFields, records: z.array(z.unknown()).min(1) }),
  z.object({ type: z.literal("UPDATE"), ...chunkFields, records: z.array(z.unknown()).min(1) }),
  z.object({ type: z.literal("DELETE"), ...chunkFields, old_records: z.array(z.unknown()).min(1) }),
]);

export type SupabaseBatchWebhookPayload = z.infer<typeof supabaseBatchWebhookSchema>;
