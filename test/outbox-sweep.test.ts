import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { recordEmailSend } from "../producers/email-writes";
import { sweepOutbox } from "../producers/outbox";
import { queueBindings } from "../producers/publish";
import { pg, waitFor } from "./support/helpers";

const base = {
  to_email: "gm@bellevue.test",
  from_email: "sales@crm.test",
  subject: "Hello",
  body: "Hi",
  direction: "outbound" as const,
  status: "pending" as const,
};
const down = () => {
  throw new Error("Queue sendBatch failed: Internal Server Error");
};
const refusing = { ...env, TO_SUPABASE: { send: down, sendBatch: down } as unknown as Queue };
const sweep = (queues = queueBindings(env)) => sweepOutbox({ db: env.DB, queues }, { graceSeconds: 0 });
const pgVersion = async (id: string) => (await pg()`select version::int as v from emails where id = ${id}`)[0]?.v;

async function prospect(): Promise<string> {
  const id = crypto.randomUUID();
  await pg()`insert into prospects (id, name) values (${id}, 'Outbox sweep prospect')`;
  return id;
}

/** An email committed in D1 whose publish the queue refused: its outbox row waits for the sweep. */
async function unpublishedEmail(prospect_id: string): Promise<string> {
  const result = await recordEmailSend({ db: env.DB, queues: queueBindings(refusing) }, { ...base, prospect_id }, "t");
  expect(result.published).toBe(false);
  return result.email.id;
}

/** An outbox row written behind the API's back (as one that slipped in before the API checked sizes). */
async function rawOutboxRow(fields: {
  entity?: string;
  row_id?: string;
  row_image: string;
}): Promise<{ seq: number; row_id: string }> {
  const row_id = fields.row_id ?? crypto.randomUUID();
  const row = await env.DB.prepare(
    "INSERT INTO sync_outbox (entity, row_id, op, version, row_image) VALUES (?1, ?2, 'upsert', 1, ?3) RETURNING seq",
  )
    .bind(fields.entity ?? "emails", row_id, fields.row_image)
    .first<{ seq: number }>();
  return { seq: row!.seq, row_id };
}

function emailImage(id: string, prospect_id: string, body: string): string {
  const now = new Date().toISOString();
  return JSON.stringify({
    id,
    prospect_id,
    campaign_id: null,
    mailbox_id: null,
    direction: "outbound",
    to_email: base.to_email,
    from_email: base.from_email,
    subject: "Huge",
    body,
    message_id: null,
    status: "pending",
    sent_at: null,
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
  });
}

const tasksFor = async (rowId: string) =>
  (
    await env.DB.prepare(
      "SELECT queue, event_id, error_code, failure_count, status FROM failed_tasks WHERE row_id = ?1",
    )
      .bind(rowId)
      .all()
  ).results;
const historyFor = async (eventId: string) =>
  (await env.DB.prepare("SELECT count(*) AS n FROM failed_task_history WHERE event_id = ?1")
    .bind(eventId)
    .first<{ n: number }>())!.n;
const outboxRow = (seq: number) =>
  env.DB.prepare("SELECT published_at, failed_reason FROM sync_outbox WHERE seq = ?1")
    .bind(seq)
    .first<{ published_at: string | null; failed_reason: string | null }>();

describe("outbox sweep: one entry that can never be queued does not wedge the others", () => {
  it("publishes the good rows around an oversized one, records it once, and never records it again", async () => {
    const prospect_id = await prospect();
    const before = await unpublishedEmail(prospect_id);
    // 70,000 Cyrillic characters: 140,000 bytes, over the message budget whatever the character count says.
    const big = await rawOutboxRow({ row_image: emailImage(crypto.randomUUID(), prospect_id, "я".repeat(70_000)) });
    const after = await unpublishedEmail(prospect_id);

    const first = await sweep();
    expect(first).toMatchObject({ republished: 2, failed: 1, unsent: 0 });
    await waitFor(
      async () => (await pgVersion(before)) === 1 && (await pgVersion(after)) === 1,
      "both good emails in Postgres",
    );
    const tasks = await tasksFor(big.row_id);
    expect(tasks).toEqual([
      expect.objectContaining({
        queue: "to-supabase",
        error_code: "EVENT_TOO_LARGE",
        failure_count: 1,
        status: "open",
      }),
    ]);
    const settled = await outboxRow(big.seq);
    expect(settled!.published_at).not.toBeNull();
    expect(settled!.failed_reason).toMatch(/^EVENT_TOO_LARGE: /);

    // The next run finds nothing to do; and a crash between recording and settling (the row
    // unsettled again) records nothing new either.
    expect(await sweep()).toMatchObject({ republished: 0, failed: 0 });
    await env.DB.prepare("UPDATE sync_outbox SET published_at = NULL, failed_reason = NULL WHERE seq = ?1")
      .bind(big.seq)
      .run();
    expect(await sweep()).toMatchObject({ republished: 0, failed: 1 });
    expect(await sweep()).toMatchObject({ republished: 0, failed: 0 });
    expect(await tasksFor(big.row_id)).toEqual(tasks);
    expect(await historyFor(tasks[0]!.event_id as string)).toBe(1);
  });

  it("isolates a row for an entity the registry does not know and a row image that is not JSON", async () => {
    const prospect_id = await prospect();
    const unknown = await rawOutboxRow({ entity: "invoices", row_image: "{}" });
    const broken = await rawOutboxRow({ row_image: "{not json" });
    const good = await unpublishedEmail(prospect_id);

    expect(await sweep()).toMatchObject({ republished: 1, failed: 2 });
    await waitFor(async () => (await pgVersion(good)) === 1, "the good email in Postgres");
    expect((await tasksFor(unknown.row_id)).map((t) => t.error_code)).toEqual(["UNKNOWN_ENTITY"]);
    expect((await tasksFor(broken.row_id)).map((t) => t.error_code)).toEqual(["INVALID_EVENT"]);
    expect(await sweep()).toMatchObject({ republished: 0, failed: 0 });
    expect(await tasksFor(unknown.row_id)).toHaveLength(1);
  });

  it("an unavailable queue is an outage, not a bad entry: nothing is recorded and the next run publishes", async () => {
    const prospect_id = await prospect();
    const a = await unpublishedEmail(prospect_id);
    const b = await unpublishedEmail(prospect_id);

    const outage = await sweep(queueBindings(refusing));
    expect(outage).toMatchObject({
      republished: 0,
      failed: 0,
      unsent: 2,
      error: { code: "QUEUE_UNAVAILABLE", retryable: true },
    });
    expect(await tasksFor(a)).toEqual([]);
    const unpublished = await env.DB.prepare(
      "SELECT count(*) AS n FROM sync_outbox WHERE row_id IN (?1, ?2) AND published_at IS NULL",
    )
      .bind(a, b)
      .first<{ n: number }>();
    expect(unpublished!.n).toBe(2);

    expect(await sweep()).toMatchObject({ republished: 2, failed: 0, unsent: 0 });
    await waitFor(async () => (await pgVersion(a)) === 1 && (await pgVersion(b)) === 1, "both emails in Postgres");
  });

  it("when the queue refuses a whole sendBatch for its size, the rows are sent one by one and only the refused one is recorded", async () => {
    const prospect_id = await prospect();
    const ids = [
      await unpublishedEmail(prospect_id),
      await unpublishedEmail(prospect_id),
      await unpublishedEmail(prospect_id),
    ];
    const culprit = ids[1]!;
    // A platform that counts this one message as over its limit, although our estimate let it through.
    const isCulprit = (body: unknown) => (body as { key: { id: string } }).key.id === culprit;
    const real = env.TO_SUPABASE;
    const strict = {
      send: async (body: unknown, opts?: QueueSendOptions) => {
        if (isCulprit(body))
          throw new Error("Queue send failed: message length of 128100 bytes exceeds limit of 128000");
        return real.send(body, opts);
      },
      sendBatch: async (messages: Iterable<MessageSendRequest>, opts?: QueueSendBatchOptions) => {
        const list = [...messages];
        if (list.some((m) => isCulprit(m.body)))
          throw new Error(
            "Queue sendBatch failed: message in batch has length 128100 bytes which exceeds single message size limit of 128000",
          );
        return real.sendBatch(list, opts);
      },
    } as unknown as Queue;

    expect(await sweep({ ...queueBindings(env), "to-supabase": strict })).toMatchObject({
      republished: 2,
      failed: 1,
      unsent: 0,
    });
    await waitFor(
      async () => (await pgVersion(ids[0]!)) === 1 && (await pgVersion(ids[2]!)) === 1,
      "the other two emails in Postgres",
    );
    expect((await tasksFor(culprit)).map((t) => t.error_code)).toEqual(["EVENT_TOO_LARGE"]);
    expect(await sweep()).toMatchObject({ republished: 0, failed: 0 });
  });
});
