import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { makeEvent, type SyncEvent } from "../../schemas/event";
import type { EntityName } from "../../schemas/registry";
import worker from "../../src/index";
import { pg, pgRow } from "./helpers";

/** Inserts one row of each Supabase-authoritative entity in Postgres; returns their committed images. */
export async function insertCrmRows() {
  const mailbox = crypto.randomUUID();
  const prospect = crypto.randomUUID();
  const campaign = crypto.randomUUID();
  const inbox = crypto.randomUUID();
  await pg()`insert into mailboxes (id, email, display_name) values (${mailbox}, ${`sales-${mailbox.slice(0, 8)}@crm.test`}, 'Sales')`;
  await pg()`insert into prospects (id, name, city, country, contact_email, score, email_bounced) values (${prospect}, 'Hotel Bellevue', 'Zürich', 'CH', 'GM@Bellevue.test', 42, true)`;
  await pg()`insert into campaigns (id, name, status, mailbox_id, subject_template, started_at) values (${campaign}, 'Spring outreach', 'active', ${mailbox}, 'Hello {{name}}', '2025-03-01T09:30:00+01:00')`;
  await pg()`insert into inbox_items (id, mailbox_id, prospect_id, from_email, subject, snippet, received_at) values (${inbox}, ${mailbox}, ${prospect}, 'gm@bellevue.test', 'Re: Hello', 'Sounds good', '2025-03-02T10:00:00Z')`;
  return {
    mailboxes: await pgRow("mailboxes", mailbox),
    prospects: await pgRow("prospects", prospect),
    campaigns: await pgRow("campaigns", campaign),
    inbox_items: await pgRow("inbox_items", inbox),
  } satisfies Partial<Record<EntityName, Record<string, unknown>>>;
}

export function upsertEvent(
  entity: EntityName,
  row: Record<string, unknown>,
  extra: Partial<SyncEvent> = {},
): SyncEvent {
  return makeEvent({
    entity,
    op: "upsert",
    key: { id: String(row.id) },
    version: Number(row.version),
    row,
    source: "supabase-change-log",
    trace_id: "test",
    ...extra,
  });
}

export function deleteEvent(entity: EntityName, id: string, version: number): SyncEvent {
  return makeEvent({
    entity,
    op: "delete",
    key: { id },
    version,
    row: null,
    source: "supabase-change-log",
    trace_id: "test",
  });
}

/** A valid emails row image (D1 shape) at a given version/status. */
export function emailRow(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = new Date().toISOString();
  return {
    id: crypto.randomUUID(),
    prospect_id: crypto.randomUUID(),
    campaign_id: null,
    mailbox_id: null,
    direction: "outbound",
    to_email: "gm@bellevue.test",
    from_email: "sales@crm.test",
    subject: "Hello",
    body: "Hi there",
    message_id: null,
    status: "sent",
    sent_at: now,
    delivered_at: null,
    opened_at: null,
    clicked_at: null,
    replied_at: null,
    bounced_at: null,
    failed_at: null,
    error: null,
    created_at: now,
    updated_at: now,
    version: 1,
    ...overrides,
  };
}

let messageSeq = 0;
/** Runs the worker's queue handler on a batch exactly as Cloudflare would deliver it. */
export async function deliver(queue: string, bodies: unknown[], opts: { attempts?: number; env?: typeof env } = {}) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body) => ({ id: `msg-${++messageSeq}`, timestamp: new Date(), attempts: opts.attempts ?? 1, body })),
  );
  // getQueueResult does not report retry delays, so record what the consumer asked for.
  const delays = new Map<string, number | undefined>();
  const messages = batch.messages.map((m) => {
    const retry = m.retry.bind(m);
    return {
      id: m.id,
      body: m.body,
      attempts: m.attempts,
      timestamp: m.timestamp,
      ack: m.ack.bind(m),
      retry: (o?: QueueRetryOptions) => (delays.set(m.id, o?.delaySeconds), retry(o)),
    } as Message<unknown>;
  });
  const ctx = createExecutionContext();
  const wrapped = {
    queue: batch.queue,
    messages,
    ackAll: batch.ackAll.bind(batch),
    retryAll: batch.retryAll.bind(batch),
  };
  await worker.queue!(wrapped as unknown as MessageBatch<unknown>, opts.env ?? env);
  const result = await getQueueResult(batch, ctx);
  return { batch, result, delays, ids: batch.messages.map((m) => m.id) };
}
