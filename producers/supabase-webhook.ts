import { z } from "zod";
import { makeEvent, type SyncEvent } from "../schemas/event";
import { entityByTable, type EntityName } from "../schemas/registry";
import type { EntityDefinition } from "../schemas/define-entity";
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
  const entity = webhookEntity(payload.schema, payload.table);
  return payload.type === "DELETE"
    ? deleteEvent(entity, payload.old_record, traceId)
    : upsertEvent(entity, payload.record, traceId);
}

/** The entity a webhook's table carries, if Supabase is authoritative for it. */
export function webhookEntity(schema: string, table: string): EntityDefinition {
  const entity = schema === "public" ? entityByTable(table) : undefined;
  if (!entity) {
    throw new ValidationError("UNKNOWN_TABLE", `table ${schema}.${table} is not synced`, undefined, 422);
  }
  if (entity.authority !== "supabase") {
    throw new ValidationError(
      "NOT_AUTHORITATIVE",
      `${entity.name} is authoritative in ${entity.authority}; Supabase webhooks for it are ignored`,
      undefined,
      422,
    );
  }
  return entity;
}

/** The event for a deleted row, from its old image (only id and version are needed). */
export function deleteEvent(entity: EntityDefinition, oldRecord: unknown, traceId: string): SyncEvent {
  const key = deletedKey.safeParse(oldRecord);
  if (!key.success) {
    throw new ValidationError(
      "SCHEMA_VIOLATION",
      `old_record lacks id/version: ${formatIssues(key.error)}`,
      undefined,
      422,
    );
  }
  // The delete is the next version after the last one the row had (same rule as the change log).
  return makeEvent({
    entity: entity.name as EntityName,
    op: "delete",
    key: { id: key.data.id },
    version: key.data.version + 1,
    row: null,
    source: "supabase-webhook",
    trace_id: traceId,
  });
}

/** The event for an inserted or updated row, validated against the entity's schema. */
export function upsertEvent(entity: EntityDefinition, record: unknown, traceId: string): SyncEvent {
  const row = entity.row.safeParse(record);
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
    entity: entity.name as EntityName,
    op: "upsert",
    key: { id: data.id },
    version: data.version,
    row: data as Record<string, unknown>,
    source: "supabase-webhook",
    trace_id: traceId,
  });
}
