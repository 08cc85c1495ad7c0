import type { DeadLetter } from "../schemas/dead-letter";
import { contacts } from "../schemas/entities/contacts";
import { derivedEventId, type SyncEvent } from "../schemas/event";
import { parseInstant } from "../schemas/fields";
import { CONTACT_COLUMNS, type HubSpotContact } from "../schemas/hubspot/contact";
import { contactUuid, isHubSpotObjectId } from "../schemas/hubspot/contact-id";
import { dlqFor, queueFor, type QueueName } from "../schemas/registry";
import { sendBatches } from "../core/batching/send-batches";
import { boundedMessage, describe, TransientError, ValidationError } from "../core/errors";
import type { CurrentRow } from "../core/stores/row-state";
import { utcNow } from "../core/utc";
import { formatIssues } from "../core/zod-issues";
import { assertEventFits, publishEvents, type QueueBindings } from "./publish";

export type ContactSource = "hubspot-sync" | "hubspot-webhook";

/** A contact that cannot become an event, as a dead letter ready for the registry's DLQ. */
export interface ContactFailure {
  /** HubSpot's id as sent (may be what is wrong). */
  hubspotId: string | null;
  dlq: QueueName;
  letter: DeadLetter;
}

export interface ContactEvents {
  /** The work queue the registry routes contacts to. */
  queue: QueueName;
  events: SyncEvent[];
  failures: ContactFailure[];
}

/**
 * Turns contacts read from HubSpot (CRM v3 contact objects) into pipeline events: an upsert with
 * the full row image at version = updatedAt in ms, or, for an archived contact, a delete (the
 * tombstone) at max(archivedAt, updatedAt) in ms. Each is checked against the registry exactly
 * as the consumer will check it; a contact that fails becomes a dead letter with its reason,
 * so it lands in failed_tasks through the DLQ consumer like any other poison event, and the
 * others go on.
 *
 * Event ids are derived from (contact, op, version): the same state read twice (overlapping
 * incremental windows, a resumed full sync, a webhook and a sync) is the same event, and a bad
 * contact read again is one failed task, not one per read.
 */
export async function contactEvents(
  list: readonly HubSpotContact[],
  source: ContactSource,
  opts: { traceId?: string; now?: string } = {},
): Promise<ContactEvents> {
  const queue = queueFor(contacts);
  const dlq = dlqFor(queue);
  const out: ContactEvents = { queue, events: [], failures: [] };
  for (const contact of list) {
    let event: SyncEvent | null = null;
    try {
      event = await eventOf(contact, source, opts.traceId, opts.now);
      checkRow(event);
      assertEventFits(event);
      out.events.push(event);
    } catch (error) {
      const info = describe(error);
      out.failures.push({
        hubspotId: typeof contact?.id === "string" ? contact.id : null,
        dlq,
        letter: {
          kind: "dead-letter",
          queue,
          message_id: event?.id ?? `hubspot-contact:${String(contact?.id)}`,
          attempts: 0,
          failed_at: utcNow(),
          error: { code: info.code, message: boundedMessage(info.message), retryable: false },
          // The event as it would have travelled (so failed_tasks knows entity, row and version
          // and replays it), or the contact itself when not even an event could be made of it.
          // One too large for a queue message goes without its row: the letter must still fit.
          event: event && info.code === "EVENT_TOO_LARGE" ? { ...event, row: null } : (event ?? contact),
        },
      });
    }
  }
  return out;
}

/**
 * What HubSpot holds for these contacts, as refresh replay reads a source (core/stores/row-state.ts),
 * keyed by row id: exactly what contactEvents would publish for them (the normalised row at
 * updatedAt in ms, or an archived contact's tombstone), or, for a contact that would be
 * dead-lettered, why (`invalid`), so a replay refuses it with the reason instead of sending it.
 */
export async function contactStates(list: readonly HubSpotContact[]): Promise<Map<string, CurrentRow>> {
  // The source is only the events' label; replay marks what it sends as its own.
  const made = await contactEvents(list, "hubspot-sync");
  const states = new Map<string, CurrentRow>();
  for (const event of made.events) states.set(event.key.id, { version: event.version, row: event.row });
  for (const { hubspotId, letter } of made.failures) {
    if (hubspotId === null || !isHubSpotObjectId(hubspotId)) continue; // not a contact we asked for
    const version = Number((letter.event as Partial<SyncEvent>).version);
    states.set(contactUuid(hubspotId), {
      version: Number.isFinite(version) ? version : 0,
      row: null,
      invalid: { code: letter.error.code, message: letter.error.message },
    });
  }
  return states;
}

/**
 * Sends what contactEvents made: the events to their work queue, the failures to its DLQ. All or
 * nothing from the caller's view: a queue refusal throws a transient QUEUE_UNAVAILABLE and the
 * caller reads the page again (the derived event ids make the second send harmless).
 */
export async function publishContactEvents(
  queues: QueueBindings,
  made: ContactEvents,
): Promise<{ published: number; deadLettered: number }> {
  await publishEvents(queues, made.events);
  const byDlq = new Map<QueueName, DeadLetter[]>();
  for (const f of made.failures) byDlq.set(f.dlq, [...(byDlq.get(f.dlq) ?? []), f.letter]);
  for (const [dlq, letters] of byDlq) {
    try {
      for (const batch of sendBatches(letters, (letter) => letter))
        await queues[dlq].sendBatch(batch.map((body) => ({ body, contentType: "json" as const })));
    } catch (error) {
      throw new TransientError("QUEUE_UNAVAILABLE", `queue ${dlq} refused the dead letters: ${String(error)}`, error);
    }
  }
  return { published: made.events.length, deadLettered: made.failures.length };
}

async function eventOf(
  contact: HubSpotContact,
  source: ContactSource,
  traceId: string | undefined,
  now: string | undefined,
): Promise<SyncEvent> {
  if (!contact || typeof contact !== "object")
    throw new ValidationError("SCHEMA_VIOLATION", "contacts row is invalid: not a HubSpot contact object");
  if (typeof contact.id !== "string" || !isHubSpotObjectId(contact.id))
    throw new ValidationError(
      "SCHEMA_VIOLATION",
      `contacts row is invalid: id: must be a HubSpot object id (decimal digits, at most 2^63 - 1), got ${JSON.stringify(contact.id)}`,
    );
  const updated = instantOf(contact.updatedAt, "updatedAt");
  const id = contactUuid(contact.id);
  const common = {
    entity: "contacts" as const,
    key: { id },
    occurred_at: now ?? utcNow(),
    source,
    trace_id: traceId ?? `hubspot:contact:${contact.id}`,
  };
  if (contact.archived) {
    // The tombstone: not earlier than the last state HubSpot showed before archiving it.
    const archivedAt = contact.archivedAt ? instantOf(contact.archivedAt, "archivedAt") : updated;
    const version = Math.max(archivedAt, updated);
    return {
      id: await derivedEventId(`hubspot:contacts:${contact.id}:delete:${version}`, version),
      op: "delete",
      version,
      row: null,
      ...common,
    };
  }
  const properties = contact.properties && typeof contact.properties === "object" ? contact.properties : {};
  // HubSpot answers a cleared property with "" as often as with null: no value either way. `data`
  // keeps exactly what was sent.
  const prop = (name: string) => (properties[name] === "" ? null : (properties[name] ?? null));
  const row = {
    id,
    hubspot_id: contact.id,
    email: prop(CONTACT_COLUMNS.email),
    first_name: prop(CONTACT_COLUMNS.first_name),
    last_name: prop(CONTACT_COLUMNS.last_name),
    phone: prop(CONTACT_COLUMNS.phone),
    company: prop(CONTACT_COLUMNS.company),
    // undefined is "not sent": left out, so `data` holds exactly what HubSpot sent.
    data: Object.fromEntries(Object.entries(properties).filter(([, v]) => v !== undefined)),
    created_at: contact.createdAt,
    updated_at: contact.updatedAt,
    version: updated,
  };
  return {
    id: await derivedEventId(`hubspot:contacts:${contact.id}:upsert:${updated}`, updated),
    op: "upsert",
    version: updated,
    row,
    ...common,
  };
}

function instantOf(value: unknown, field: string): number {
  const parsed = typeof value === "string" ? parseInstant(value) : { problem: "must be an ISO 8601 timestamp" };
  if ("problem" in parsed)
    throw new ValidationError("SCHEMA_VIOLATION", `contacts row is invalid: ${field}: ${parsed.problem}`);
  if (parsed.ms <= 0)
    throw new ValidationError("SCHEMA_VIOLATION", `contacts row is invalid: ${field}: must be after 1970-01-01`);
  return parsed.ms;
}

/** The registry's check, as the to-supabase consumer will make it; the event keeps the normalised row. */
function checkRow(event: SyncEvent): void {
  if (event.op === "delete") return;
  const parsed = contacts.row.safeParse(event.row);
  if (!parsed.success)
    throw new ValidationError("SCHEMA_VIOLATION", `contacts row is invalid: ${formatIssues(parsed.error)}`);
  event.row = parsed.data as Record<string, unknown>;
}
