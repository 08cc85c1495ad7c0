import { z } from "zod";
import { makeEvent, type SyncEvent } from "../schemas/event";
import { entityByTable, type EntityName } from "../schemas/registry";
import { supabaseWebhookSchema } from "../schemas/webhook-payload";
import { uuid, version } from "../schemas/fields";
import { ValidationError } from "../core/errors";
import { formatIssues } from "../core/zod-issues";

// A delete is published at the row's version + 1, so the last version must leave room for it.
const deletedKey = z.object({ id: uuid(), version: version().max(Number.MAX_SAFE_INTEGER - 1) });

/**
 * Turns one Supabase Database Webhook payload into a sync event, or explains precisely why not.
 * Only tables the registry marks Supabase-authoritative are accepted: a webhook on a replica table
 * would echo our own writes back.
 */
export function eventFromWebhook(body: unknown, traceId: string): SyncEvent {
  const parsed = supabaseWebhookSchema.safeParse(body);
  if (!parsed.success) {
    throw new ValidationError("INVALID_PAYLOAD", `not a Supabase webhook payload: ${formatIssues(parsed.error)}`);
  }
  const payload = parsed.data;
  const entity = payload.schema === "public" ? entityByTable(payload.table) : undefined;
  if (!entity) {
    throw new ValidationError(
      "UNKNOWN_TABLE",
      `table ${payload.schema}.${payload.table} is not synced`,
      undefined,
      422,
    );
  }
  if (entity.authority !== "supabase") {
    throw new ValidationError(
      "NOT_AUTHORITATIVE",
      `${entity.name} is authoritative in ${entity.authority}; Supabase webhooks for it are ignored`,
      undefined,
      422,
    );
  }
  const name = entity.name as EntityName;

  if (payload.type === "DELETE") {
    const key = deletedKey.safeParse(payload.old_record);
    if (!key.success) {
      throw new ValidationError(
        "SCHEMA_VIOLATION",
        `old_record lacks id/version: ${formatIssues(key.error)}`,
        undefined,
        422,
      );
    }
    // The delete is the next version after the last one the row had (same rule as the change log).
    const v = key.data.version + 1;
    return makeEvent({
      entity: name,
      op: "delete",
      key: { id: key.data.id },
      version: v,
      row: null,
      source: "supabase-webhook",
      trace_id: traceId,
    });
  }

  const row = entity.row.safeParse(payload.record);
  if (!row.success) {
    throw new ValidationError(
      "SCHEMA_VIOLATION",
      `${entity.name} record is invalid: ${formatIssues(row.error)}`,
      undefined,
      422,
    );
  }
  const data = row.data as { id: string; version: number };
  return makeEvent({
    entity: name,
    op: "upsert",
    key: { id: data.id },
    version: data.version,
    row: data as Record<string, unknown>,
    source: "supabase-webhook",
    trace_id: traceId,
  });
}
