import { makeEvent, type SyncEvent } from "../../schemas/event";

/**
 * Row images for the throughput benchmark. Ids are deterministic per (pool, index), so the same
 * rows are rewritten round after round at a higher version: every timed write is an update that
 * really changes the row (round 0, the warm-up, inserts them).
 */
export function poolId(pool: number, index: number): string {
  return `${pool.toString(16).padStart(8, "0")}-0000-4000-8000-${index.toString(16).padStart(12, "0")}`;
}

export function poolIds(pool: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => poolId(pool, i));
}

const CREATED = "2025-03-01T09:00:00.000Z";

/** A prospect as wide as real ones (every text column filled): ~560 bytes of JSON. */
export function prospectRow(id: string, index: number, version: number): Record<string, unknown> {
  return {
    id,
    name: `Grand Hotel Bellevue-Palace ${index}`,
    city: "Zürich",
    country: "CH",
    contact_name: "Anna Muster-Keller",
    contact_email: `gm.${index}@bellevue-palace.test`,
    contact_title: "General Manager",
    phone: "+41 44 123 45 67",
    website: "https://www.bellevue-palace.test",
    linkedin_url: "https://www.linkedin.com/company/bellevue-palace-zurich",
    stage: "contacted",
    tier: "A",
    score: (index * 7 + version) % 100,
    lead_source: "bench",
    email_bounced: false,
    archived: false,
    created_at: CREATED,
    updated_at: new Date(Date.UTC(2025, 2, 1, 9) + version * 1000).toISOString(),
    version,
  };
}

const BODY =
  "Hi Anna, following up on our call last week: we would love to host your spring offsite and can hold " +
  "the lakeside terrace for the 14th. I attached the menu options and the room plan. Would Thursday " +
  "work for a short call to go through the details? Best regards, Sam";

/** An email as the D1 outbox publishes it (D1 shape, status "sent"). */
export function emailRow(id: string, index: number, version: number, prospectId: string): Record<string, unknown> {
  const at = new Date(Date.UTC(2025, 2, 1, 9) + version * 1000).toISOString();
  return {
    id,
    prospect_id: prospectId,
    campaign_id: null,
    mailbox_id: null,
    direction: "outbound",
    to_email: `gm.${index}@bellevue-palace.test`,
    from_email: "sales@crm.test",
    subject: `Your spring offsite at the lake (${index})`,
    body: BODY,
    message_id: `<${id}@mail.crm.test>`,
    status: "sent",
    sent_at: CREATED,
    delivered_at: null,
    opened_at: null,
    clicked_at: null,
    replied_at: null,
    bounced_at: null,
    failed_at: null,
    error: null,
    created_at: CREATED,
    updated_at: at,
    version,
  };
}

export function upsertEvent(
  entity: "prospects" | "emails",
  row: Record<string, unknown>,
  source: SyncEvent["source"],
): SyncEvent {
  return makeEvent({
    entity,
    op: "upsert",
    key: { id: String(row.id) },
    version: Number(row.version),
    row,
    source,
    trace_id: "bench",
  });
}
