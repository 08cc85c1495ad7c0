import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import migration0009 from "../migrations/supabase/0009_timestamp_range.sql?raw";
import { createApp } from "../src/http/app";
import { deliver, emailRow, insertCrmRows, upsertEvent } from "./support/fixtures";
import { d1Row, pg, pgRow, SECRETS, waitFor, webhookPayload } from "./support/helpers";

/** POSTs a webhook to the real app with queue bindings that record what was sent. */
async function postWebhook(body: unknown) {
  const sent: unknown[] = [];
  const wrap = (q: Queue): Queue =>
    ({
      send: async (b: unknown, o?: QueueSendOptions) => (sent.push(b), q.send(b, o)),
      sendBatch: async (msgs: Iterable<MessageSendRequest>, o?: QueueSendBatchOptions) => {
        const list = [...msgs];
        for (const m of list) sent.push(m.body);
        return q.sendBatch(list, o);
      },
    }) as Queue;
  const res = await createApp().request(
    "/webhooks/supabase",
    {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${SECRETS.webhook}` },
      body: JSON.stringify(body),
    },
    { ...env, TO_D1: wrap(env.TO_D1), TO_SUPABASE: wrap(env.TO_SUPABASE) },
    { waitUntil: () => {}, passThroughOnException: () => {}, props: {} } as unknown as ExecutionContext,
  );
  return {
    status: res.status,
    json: (await res.json()) as { error?: { code: string; message: string; retryable: boolean } },
    sent,
  };
}

describe("the webhook endpoint refuses rows the timestamp and text rules refuse", () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    [
      "year 10000 (as Postgres renders it)",
      { created_at: "10000-01-01T00:00:00+00:00" },
      "created_at: must be an ISO 8601 timestamp",
    ],
    ["an offset pushing past 9999-12-31", { created_at: "9999-12-31T23:59:00-01:00" }, "created_at: is outside"],
    ["infinity", { updated_at: "infinity" }, "updated_at: must be an ISO 8601 timestamp"],
    ["year 0", { created_at: "0000-01-01T00:00:00+00:00" }, "created_at: year 0000"],
    ["an impossible date", { created_at: "2025-02-30T00:00:00+00:00" }, "created_at: 2025-02 has no day 30"],
    ["a NUL in text", { city: "Z\u0000rich" }, "city: must not contain the NUL character"],
    ["a lone surrogate in text", { city: "Z\ud800rich" }, "city: must be well-formed Unicode"],
  ];
  for (const [what, fields, message] of cases) {
    it(`${what}: 422 SCHEMA_VIOLATION naming the column, nothing queued`, async () => {
      const id = crypto.randomUUID();
      await pg()`insert into prospects (id, name) values (${id}, 'Webhook validation')`;
      const record = { ...(await pgRow("prospects", id)), ...fields };
      const res = await postWebhook(webhookPayload("UPDATE", "prospects", record, record));
      expect(res.status).toBe(422);
      expect(res.json.error).toMatchObject({ code: "SCHEMA_VIOLATION", retryable: false });
      expect(res.json.error!.message).toContain(message);
      expect(res.sent).toEqual([]);
    });
  }
});

describe("the webhook endpoint refuses a delete it could not version", () => {
  it("a row at the largest safe version: its delete (version + 1) would not fit an event; 422, nothing queued", async () => {
    const old = { id: crypto.randomUUID(), version: Number.MAX_SAFE_INTEGER };
    const res = await postWebhook(webhookPayload("DELETE", "campaigns", null, old));
    expect(res.status).toBe(422);
    expect(res.json.error).toMatchObject({ code: "SCHEMA_VIOLATION", retryable: false });
    expect(res.sent).toEqual([]);
  });
});

describe("consumers dead-letter an event whose row breaks the rule, with its reason, and apply the rest", () => {
  it("to-d1: the bad row goes to failed_tasks naming the column; its neighbour in the batch is applied", async () => {
    const rows = await insertCrmRows();
    const good = upsertEvent("prospects", rows.prospects);
    const bad = upsertEvent("campaigns", { ...rows.campaigns, started_at: "9999-12-31T23:59:00-01:00" });
    const { result, ids } = await deliver("to-d1", [bad, good]);
    expect(result.explicitAcks.sort()).toEqual([...ids].sort()); // acked: one applied, one handed to the DLQ
    expect(result.retryMessages).toEqual([]);
    expect(await d1Row("prospects", String(rows.prospects.id))).toMatchObject({ version: 1 });
    expect(await d1Row("campaigns", String(rows.campaigns.id))).toBeNull();
    const task = await waitFor(
      () =>
        env.DB.prepare("SELECT error_code, error_message, retryable FROM failed_tasks WHERE event_id = ?1")
          .bind(bad.id)
          .first(),
      "the bad event in failed_tasks",
      15_000,
    );
    expect(task).toMatchObject({ error_code: "SCHEMA_VIOLATION", retryable: 0 });
    expect(task.error_message).toMatch(/campaigns row is invalid: started_at: is outside/);
  });

  it("to-supabase: an email row with a NUL or year 0 is dead-lettered before Postgres sees it", async () => {
    const [p] = await pg()`insert into prospects (name) values ('Consumer validation') returning id`;
    const nul = upsertEvent("emails", emailRow({ prospect_id: p!.id, body: "a\u0000b" }));
    const year0 = upsertEvent("emails", emailRow({ prospect_id: p!.id, sent_at: "0000-03-01T00:00:00.000Z" }));
    const good = upsertEvent("emails", emailRow({ prospect_id: p!.id }));
    const { result } = await deliver("to-supabase", [nul, year0, good]);
    expect(result.retryMessages).toEqual([]);
    const inPg = await pg()`select id from emails where id in (${nul.key.id}, ${year0.key.id}, ${good.key.id})`;
    expect(inPg.map((r) => r.id)).toEqual([good.key.id]);
    const tasks = await waitFor(
      async () => {
        const { results } = await env.DB.prepare(
          "SELECT event_id, error_code, error_message FROM failed_tasks WHERE event_id IN (?1, ?2) ORDER BY error_message",
        )
          .bind(nul.id, year0.id)
          .all<{ event_id: string; error_code: string; error_message: string }>();
        return results.length === 2 ? results : null;
      },
      "both bad emails in failed_tasks",
      15_000,
    );
    expect(tasks.map((t) => t.error_code)).toEqual(["SCHEMA_VIOLATION", "SCHEMA_VIOLATION"]);
    expect(tasks.map((t) => t.error_message)).toEqual([
      expect.stringMatching(/body: must not contain the NUL character/),
      expect.stringMatching(/sent_at: year 0000 does not exist/),
    ]);
  });
});

describe("Postgres refuses out-of-range timestamps at the source (migration 0009)", () => {
  const refused = /violates check constraint "(prospects|campaigns|mailboxes|inbox_items|emails)_\w+_in_range"/;

  it("refuses infinity, year 10000 and BC dates on every authoritative table's timestamp columns", async () => {
    const [m] = await pg()`insert into mailboxes (email) values ('range@crm.test') returning id`;
    // (cast from text: postgres.js would otherwise serialise the parameter through a JS Date)
    for (const value of [
      "infinity",
      "-infinity",
      "10000-01-01 00:00:00+00",
      "9999-12-31 23:59:00-01",
      "0001-01-01 00:00:00+00 BC",
    ]) {
      await expect(
        pg()`insert into prospects (name, created_at) values ('Range', ${value}::text::timestamptz)`,
        value,
      ).rejects.toThrow(refused);
      await expect(
        pg()`insert into mailboxes (email, created_at) values ('r@crm.test', ${value}::text::timestamptz)`,
        value,
      ).rejects.toThrow(refused);
      await expect(
        pg()`insert into campaigns (name, started_at) values ('Range', ${value}::text::timestamptz)`,
        value,
      ).rejects.toThrow(refused);
      await expect(
        pg()`insert into inbox_items (mailbox_id, from_email, received_at) values (${m!.id}, 'a@b.test', ${value}::text::timestamptz)`,
        value,
      ).rejects.toThrow(refused);
    }
    // An update is checked too (created_at is kept by the version trigger, so try a column it leaves alone).
    const [c] = await pg()`insert into campaigns (name) values ('Range update') returning id`;
    await expect(pg()`update campaigns set started_at = 'infinity' where id = ${c!.id}`).rejects.toThrow(refused);
    const log = await pg()`select count(*)::int as n from sync.change_log where row_id = ${c!.id}`;
    expect(log[0]!.n).toBe(1); // only the insert: the refused update wrote no change either
  });

  it("accepts the ends of the range and null, and the constraints are validated", async () => {
    await pg()`insert into campaigns (name, started_at, created_at) values ('Ends', '9999-12-31 23:59:59.999+00', '0001-01-01 00:00:00+00')`;
    await pg()`insert into campaigns (name, started_at) values ('Null', null)`;
    const notValid =
      await pg()`select conname from pg_constraint where conname like '%\\_in\\_range' and not convalidated`;
    expect(notValid).toEqual([]);
    // One constraint per timestamptz column of the synced tables.
    const [counts] = await pg()`
      select (select count(*)::int from information_schema.columns where table_schema = 'public'
                and table_name in ('prospects', 'campaigns', 'mailboxes', 'inbox_items', 'emails', 'contacts')
                and data_type = 'timestamp with time zone') as columns,
             (select count(*)::int from pg_constraint where conname like '%\\_in\\_range') as constraints`;
    expect(counts!.constraints).toBe(counts!.columns);
    expect(counts!.columns).toBe(22);
  });

  it("where existing rows are out of range, the constraint is left NOT VALID (so the migration applies) and still checks new writes", async () => {
    class Rollback extends Error {}
    const seen = await pg()
      .begin(async (tx) => {
        // As before migration 0009: no constraint, an infinite created_at already stored.
        await tx.unsafe("alter table public.mailboxes drop constraint mailboxes_created_at_in_range");
        await tx`insert into mailboxes (email, created_at) values ('old@crm.test', 'infinity'::text::timestamptz)`;
        await tx.unsafe(migration0009);
        const [c] = await tx`select convalidated from pg_constraint where conname = 'mailboxes_created_at_in_range'`;
        const refused = await tx
          .savepoint(
            (sp) =>
              sp`insert into mailboxes (email, created_at) values ('new@crm.test', 'infinity'::text::timestamptz)`,
          )
          .then(
            () => "accepted",
            (e: Error) => e.message,
          );
        throw Object.assign(new Rollback(), { seen: { validated: c!.convalidated, refused } });
      })
      .catch((e) => (e instanceof Rollback ? (e as Rollback & { seen: unknown }).seen : Promise.reject(e)));
    expect(seen).toEqual({
      validated: false,
      refused: expect.stringMatching(/violates check constraint "mailboxes_created_at_in_range"/),
    });
    const [after] = await pg()`select convalidated from pg_constraint where conname = 'mailboxes_created_at_in_range'`;
    expect(after!.convalidated).toBe(true); // rolled back: the real schema is untouched
  });

  it("the emails replica refuses them as well (a store error, permanent)", async () => {
    const [p] = await pg()`insert into prospects (name) values ('Replica range') returning id`;
    const row = emailRow({ prospect_id: p!.id });
    await expect(
      pg().unsafe(`insert into emails select * from jsonb_populate_record(null::emails, $1::jsonb)`, [
        { ...row, sent_at: "infinity" },
      ]),
    ).rejects.toThrow(refused);
  });
});
