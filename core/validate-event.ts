import type { Store } from "../schemas/define-entity";
import { syncEventSchema, type SyncEvent } from "../schemas/event";
import { entityByName } from "../schemas/registry";
import { ValidationError } from "./errors";
import { formatIssues } from "./zod-issues";

/** An event whose envelope and row image passed the registry's schemas, row normalised. */
export interface ValidEvent {
  event: SyncEvent;
  /** Normalised row image (UTC timestamps, lower-case UUIDs); null for deletes. */
  row: Record<string, unknown> | null;
}

/**
 * Checks a queue message against the registry before it may touch a store. Every failure here
 * is permanent: the same bytes will fail the same way, so they dead-letter at once.
 */
export function validateEvent(body: unknown, target: Store): ValidEvent {
  const envelope = syncEventSchema.safeParse(body);
  if (!envelope.success) {
    throw new ValidationError("INVALID_EVENT", `event envelope is invalid: ${formatIssues(envelope.error)}`);
  }
  const event = envelope.data as SyncEvent;
  const entity = entityByName(event.entity)!;
  if (entity.replica !== target) {
    // A consumer never writes an entity into its authoritative store.
    throw new ValidationError(
      "WRONG_DIRECTION",
      `${entity.name} is authoritative in ${entity.authority}; it is never written into ${target}`,
    );
  }
  if (event.op === "delete") {
    if (event.row !== null) throw new ValidationError("INVALID_EVENT", "a delete event carries no row image");
    return { event, row: null };
  }
  if (event.row === null) throw new ValidationError("INVALID_EVENT", "an upsert event needs a row image");
  const row = entity.row.safeParse(event.row);
  if (!row.success) {
    throw new ValidationError("SCHEMA_VIOLATION", `${entity.name} row is invalid: ${formatIssues(row.error)}`);
  }
  const data = row.data as Record<string, unknown>;
  if (data.id !== event.key.id) throw new ValidationError("INVALID_EVENT", "row id differs from the event key");
  if (data.version !== event.version)
    throw new ValidationError("INVALID_EVENT", "row version differs from the event version");
  return { event, row: data };
}
