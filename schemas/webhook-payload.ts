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
