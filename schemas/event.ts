import { monotonicFactory } from "ulid";
import { z } from "zod";
import { ENTITY_NAMES, type EntityName } from "./registry";
import { utcTimestamp, uuid, version } from "./fields";

export const EVENT_SOURCES = ["supabase-webhook", "supabase-change-log", "d1-outbox", "email-api", "replay", "backfill", "reconcile"] as const;

/**
 * The event envelope: full row image plus version (state transfer, not deltas). Applying it means
 * "write iff incoming.version > replica.version", so duplicates and reordering are harmless.
 * For a delete, `row` is null and `version` is the deleted row's version + 1 (the tombstone).
 */
export const syncEventSchema = z.object({
  id: z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, "must be a ULID"),
  entity: z.enum(ENTITY_NAMES),
  op: z.enum(["upsert", "delete"]),
  key: z.object({ id: uuid() }),
  version: version(),
  occurred_at: utcTimestamp(),
  source: z.enum(EVENT_SOURCES),
  /** Row image, validated separately against the entity's schema (so the error names the column). */
  row: z.record(z.string(), z.unknown()).nullable(),
  trace_id: z.string().min(1).max(200),
  /**
   * Set when an operator replays a failed task: consumers resolve the task once it applies (or
   * mark it superseded when the replica is already newer), and their logs name the job and who ran it.
   */
  replay: z
    .object({
      task_id: z.string(),
      replayed_at: utcTimestamp(),
      job_id: z.string().optional(),
      mode: z.enum(["original", "refresh"]).optional(),
      by: z.string().optional(),
    })
    .optional(),
});

export type SyncEvent = z.infer<typeof syncEventSchema> & { entity: EntityName };

const nextUlid = monotonicFactory();

export function newEventId(now = Date.now()): string {
  return nextUlid(now);
}

export function makeEvent(fields: Omit<SyncEvent, "id" | "occurred_at"> & { occurred_at?: string }): SyncEvent {
  return { id: newEventId(), occurred_at: new Date().toISOString(), ...fields };
}
