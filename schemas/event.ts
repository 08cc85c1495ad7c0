import { encodeTime, monotonicFactory } from "ulid";
import { z } from "zod";
import { ENTITY_NAMES, type EntityName } from "./registry";
import { utcTimestamp, uuid, version } from "./fields";

/**
 * Cloudflare Queues refuses messages over 128 KB; leave room for the envelope's own encoding and
 * for what a replay adds to the event (its `replay` marker). Counted in UTF-8 bytes of the event's
 * JSON, as the queue counts it: 70,000 Cyrillic characters are 140,000 bytes.
 */
export const MAX_EVENT_BYTES = 120 * 1024;

/** The longest trace id an event may carry. */
export const MAX_TRACE_ID_CHARS = 200;

export const EVENT_SOURCES = [
  "supabase-webhook",
  "supabase-change-log",
  "d1-outbox",
  "email-api",
  "replay",
  "backfill",
  "reconcile",
  /** The HubSpot fetch side: full or incremental sync pages, and contacts read after a webhook. */
  "hubspot-sync",
  "hubspot-webhook",
] as const;

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
  trace_id: z.string().min(1).max(MAX_TRACE_ID_CHARS),
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

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/**
 * A ULID derived from what the event is about (e.g. "outbox:42") instead of drawn at random, with
 * `atMs` (when the entry was recorded) as its time part. A sweep meets the same entry again after
 * a crash or a failed run; with the same event id, the failed task it records for the entry
 * (failed_tasks is unique per queue and event id) is recorded once, however often that happens.
 */
export async function derivedEventId(seed: string, atMs: number): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(seed)));
  // 80 bits of the digest, 5 bits per character: the ULID's 16 random characters.
  let bits = 0n;
  for (const byte of digest.slice(0, 10)) bits = (bits << 8n) | BigInt(byte);
  let random = "";
  for (let i = 15; i >= 0; i--) random += CROCKFORD[Number((bits >> BigInt(i * 5)) & 31n)];
  const time = Number.isFinite(atMs) && atMs >= 0 ? Math.floor(atMs) : 0;
  return encodeTime(time, 10) + random;
}

export function makeEvent(fields: Omit<SyncEvent, "id" | "occurred_at"> & { occurred_at?: string }): SyncEvent {
  return { id: newEventId(), occurred_at: new Date().toISOString(), ...fields };
}
