import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { emailStatusMachine } from "../schemas/entities/emails";
import { transitionPairs } from "../schemas/state-machine";
import { emailRow } from "./support/fixtures";
import { eventFromOutbox, OUTBOX_COLUMNS, sweepOutbox, type OutboxRow } from "../producers/outbox";
import { MAX_EVENT_BYTES } from "../schemas/event";
import { queueBindings } from "../producers/publish";
import { call, pg, SECRETS, waitFor } from "./support/helpers";

async function prospect(): Promise<string> {
  const id = crypto.randomUUID();
  await pg()`insert into prospects (id, name) values (${id}, 'Email API prospect')`;
  return id;
}

const send = (body: Record<string, unknown>) => call("POST", "/v1/emails", { token: SECRETS.api, body });
const patch = (id: string, body: Record<string, unknown>) =>
  call("PATCH", `/v1/emails/${id}`, { token: SECRETS.api, body });
const pgEmail = async (id: string) =>
  (await pg()`select status, version::int as version from emails where id = ${id}`)[0];
/** Writes an email row straight into D1, as a tool other than the email API would. */
const insertEmail = (row: Record<string, unknown>) => {
  const cols = Object.keys(row);
  return env.DB.prepare(`INSERT INTO emails (${cols.join(",")}) VALUES (${cols.map((_, i) => `?${i + 1}`).join(",")})`)
    .bind(...cols.map((c) => row[c]))
    .run();
};
/** An email recorded as sent through the API (published, so no outbox row waits). */
const sentEmail = async (): Promise<string> =>
  (await send({ ...base, prospect_id: await prospect(), status: "sent", sent_at: "2025-03-01T09:00:00Z" })).json.data
    .email.id;
const base = { to_email: "gm@bellevue.test", from_email: "sales@crm.test", subject: "Hello", body: "Hi" };

describe("email API (D1 authoritative) -> to-supabase -> Postgres", () => {
  it("records a send, publishes it, and follows status changes with optimistic locking", async () => {
    const prospect_id = await prospect();
    const created = await send({ ...base, prospect_id, status: "sent", sent_at: "2025-03-01T09:00:00+01:00" });
    expect(created.status).toBe(201);
    expect(created.json.data).toMatchObject({
      published: true,
      email: { version: 1, status: "sent", sent_at: "2025-03-01T08:00:00.000Z" },
    });
    const id = created.json.data.email.id as string;
    await waitFor(async () => (await pgEmail(id))?.version === 1, "email v1 in Postgres");

    const delivered = await patch(id, { status: "delivered", expectedVersion: 1, at: "2025-03-01T08:00:05Z" });
    expect(delivered.status).toBe(200);
    expect(delivered.json.data.email).toMatchObject({
      status: "delivered",
      version: 2,
      delivered_at: "2025-03-01T08:00:05.000Z",
    });
    const row = await waitFor(
      async () => ((await pgEmail(id))?.version === 2 ? pgEmail(id) : null),
      "email v2 in Postgres",
    );
    expect(row.status).toBe("delivered");

    const outbox = await env.DB.prepare("SELECT version, published_at FROM sync_outbox WHERE row_id = ?1 ORDER BY seq")
      .bind(id)
      .all();
    expect(outbox.results.map((r) => r.version)).toEqual([1, 2]);
    expect(outbox.results.every((r) => r.published_at)).toBe(true);
  });

  it("refuses an invalid transition with 409 INVALID_TRANSITION and a stale version with 409 VERSION_CONFLICT", async () => {
    const { json } = await send({
      ...base,
      prospect_id: await prospect(),
      status: "sent",
      sent_at: new Date().toISOString(),
    });
    const id = json.data.email.id;
    const invalid = await patch(id, { status: "replied", expectedVersion: 1 }); // seed 000: sent -> replied is not a move
    expect(invalid.status).toBe(409);
    expect(invalid.json.error).toMatchObject({ code: "INVALID_TRANSITION", retryable: false });
    expect(invalid.json.error.details.allowed).toEqual(["delivered", "bounced", "opened"]);

    expect((await patch(id, { status: "opened", expectedVersion: 1 })).status).toBe(200);
    const stale = await patch(id, { status: "clicked", expectedVersion: 1 });
    expect(stale.status).toBe(409);
    expect(stale.json.error).toMatchObject({ code: "VERSION_CONFLICT" });
    expect(stale.json.error.details.currentVersion).toBe(2);

    // Two writers racing on the same version: exactly one wins.
    const race = await Promise.all([
      patch(id, { status: "clicked", expectedVersion: 2 }),
      patch(id, { status: "replied", expectedVersion: 2 }),
    ]);
    expect(race.map((r) => r.status).sort()).toEqual([200, 409]);
    const final = await env.DB.prepare("SELECT version FROM emails WHERE id = ?1")
      .bind(id)
      .first<{ version: number }>();
    expect(final!.version).toBe(3);
  });

  it("refuses impossible states, bad input and unknown ids with stable codes, writing nothing", async () => {
    const prospect_id = await prospect();
    const noSentAt = await send({ ...base, prospect_id, status: "sent" });
    expect(noSentAt.status).toBe(422);
    expect(noSentAt.json.error).toMatchObject({ code: "IMPOSSIBLE_STATE", retryable: false });
    const badEmail = await send({ ...base, prospect_id, to_email: "not-an-address" });
    expect(badEmail.status).toBe(400);
    expect(badEmail.json.error.code).toBe("INVALID_REQUEST");
    const local = await send({ ...base, prospect_id, status: "sent", sent_at: "2025-03-01T09:00:00" });
    expect(local.json.error.code).toBe("INVALID_REQUEST"); // a timestamp without a UTC offset is ambiguous
    const unauthorized = await call("POST", "/v1/emails", { body: { ...base, prospect_id } });
    expect(unauthorized.status).toBe(401);
    const missing = await patch(crypto.randomUUID(), { status: "delivered", expectedVersion: 1 });
    expect(missing.status).toBe(404);
    const count = await env.DB.prepare("SELECT count(*) AS n FROM emails WHERE prospect_id = ?1")
      .bind(prospect_id)
      .first<{ n: number }>();
    expect(count!.n).toBe(0);
    const outbox = await env.DB.prepare(
      "SELECT count(*) AS n FROM sync_outbox WHERE json_extract(row_image, '$.prospect_id') = ?1",
    )
      .bind(prospect_id)
      .first<{ n: number }>();
    expect(outbox!.n).toBe(0);
  });

  it("refuses out-of-range and impossible timestamps and NUL in text with 400 INVALID_REQUEST naming the field, writing nothing", async () => {
    const prospect_id = await prospect();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ sent_at: "9999-12-31T23:59-01:00" }, "sent_at: is outside"], // year 10000 once in UTC
      [{ sent_at: "0000-06-01T00:00:00Z" }, "sent_at: year 0000"],
      [{ sent_at: "2025-02-30T09:00:00Z" }, "sent_at: 2025-02 has no day 30"],
      [{ sent_at: "2023-02-29T09:00:00Z" }, "sent_at: 2023-02 has no day 29"],
      [{ sent_at: "infinity" }, "sent_at: must be an ISO 8601 timestamp"],
      [{ sent_at: "10000-01-01T00:00:00Z" }, "sent_at: must be an ISO 8601 timestamp"],
      [{ body: "Hi\u0000there" }, "body: must not contain the NUL character"],
      [{ subject: "\u0000" }, "subject: must not contain the NUL character"],
      [{ subject: "x\ud800y" }, "subject: must be well-formed Unicode"],
      [{ body: "\udc00" }, "body: must be well-formed Unicode"],
      [{ error: "bad\u0000" }, "error: must not contain the NUL character"],
      [{ to_email: "gm\u0000@bellevue.test" }, "to_email: must not contain the NUL character"],
    ];
    for (const [fields, message] of cases) {
      const r = await send({ ...base, prospect_id, status: "sent", sent_at: "2025-03-01T09:00:00Z", ...fields });
      expect(r.status, JSON.stringify(fields)).toBe(400);
      expect(r.json.error).toMatchObject({ code: "INVALID_REQUEST", retryable: false });
      expect(r.json.error.message).toContain(message);
    }
    const count = await env.DB.prepare("SELECT count(*) AS n FROM emails WHERE prospect_id = ?1")
      .bind(prospect_id)
      .first<{ n: number }>();
    expect(count!.n).toBe(0);
    const outbox = await env.DB.prepare(
      "SELECT count(*) AS n FROM sync_outbox WHERE json_extract(row_image, '$.prospect_id') = ?1",
    )
      .bind(prospect_id)
      .first<{ n: number }>();
    expect(outbox!.n).toBe(0);

    // A status change stamps its time by the same rule.
    const { json } = await send({ ...base, prospect_id, status: "sent", sent_at: "2025-03-01T09:00:00Z" });
    const id = json.data.email.id;
    const leap = await patch(id, { status: "delivered", expectedVersion: 1, at: "2025-02-29T10:00:00Z" });
    expect(leap.status).toBe(400);
    expect(leap.json.error.message).toContain("at: 2025-02 has no day 29");
    const late = await patch(id, { status: "delivered", expectedVersion: 1, at: "9999-12-31T23:30:00-00:45" });
    expect(late.status).toBe(400);
    expect(late.json.error.message).toContain("at: is outside");
    const row = await env.DB.prepare("SELECT status, version FROM emails WHERE id = ?1").bind(id).first();
    expect(row).toEqual({ status: "sent", version: 1 });
  });

  it("refuses a move to the same status (replied -> replied would rewrite replied_at) and D1 refuses a re-stamp too", async () => {
    const id = await sentEmail();
    expect((await patch(id, { status: "delivered", expectedVersion: 1, at: "2025-03-01T09:01:00Z" })).status).toBe(200);
    expect((await patch(id, { status: "replied", expectedVersion: 2, at: "2025-03-02T09:00:00Z" })).status).toBe(200);
    const again = await patch(id, { status: "replied", expectedVersion: 3, at: "2025-04-01T00:00:00Z" });
    expect(again.status).toBe(409);
    expect(again.json.error).toMatchObject({
      code: "INVALID_TRANSITION",
      details: { from: "replied", to: "replied", allowed: [] },
    });
    const resend = await patch(await sentEmail(), {
      status: "sent",
      expectedVersion: 1,
      at: "2025-05-01T00:00:00Z",
    });
    expect(resend.status).toBe(409);
    // At the source as well: an update that keeps the status but rewrites its timestamps is refused.
    await expect(
      env.DB.prepare("UPDATE emails SET replied_at = '2025-04-01T00:00:00.000Z', version = version + 1 WHERE id = ?1")
        .bind(id)
        .run(),
    ).rejects.toThrow(/INVALID_TRANSITION/);
    await expect(
      env.DB.prepare(
        "UPDATE emails SET status = 'replied', sent_at = '2025-04-01T00:00:00.000Z', version = version + 1 WHERE id = ?1",
      )
        .bind(id)
        .run(),
    ).rejects.toThrow(/INVALID_TRANSITION/);
    const row = await env.DB.prepare("SELECT status, replied_at, sent_at, version FROM emails WHERE id = ?1")
      .bind(id)
      .first();
    expect(row).toEqual({
      status: "replied",
      replied_at: "2025-03-02T09:00:00.000Z",
      sent_at: "2025-03-01T09:00:00.000Z",
      version: 3,
    });
    // Other columns of a row may still change without a status move (e.g. the error text).
    await env.DB.prepare("UPDATE emails SET error = 'note', version = version + 1 WHERE id = ?1").bind(id).run();
    // (written behind the API's back: mark its outbox row published so later sweeps here ignore it)
    await env.DB.prepare("UPDATE sync_outbox SET published_at = 'x' WHERE row_id = ?1").bind(id).run();
  });

  it("D1, the source of emails, refuses text holding NUL whatever writes it, and the row is left as it was", async () => {
    const id = await sentEmail();
    for (const column of ["subject", "body", "to_email", "from_email", "message_id", "error"]) {
      await expect(
        env.DB.prepare(`UPDATE emails SET ${column} = ?2, version = version + 1 WHERE id = ?1`)
          .bind(id, "before\u0000after")
          .run(),
        column,
      ).rejects.toThrow(/INVALID_TEXT/);
      await expect(insertEmail(emailRow({ [column]: "x\u0000y" })), column).rejects.toThrow(/INVALID_TEXT/);
    }
    expect(await env.DB.prepare("SELECT subject, version FROM emails WHERE id = ?1").bind(id).first()).toEqual({
      subject: "Hello",
      version: 1,
    });
  });

  it("D1, the source of emails, refuses a timestamp the registry refuses whatever writes it", async () => {
    const id = await sentEmail();
    for (const bad of [
      "2025-02-30T00:00:00.000Z",
      "2023-02-29T00:00:00.000Z",
      "0000-01-01T00:00:00.000Z",
      "2025-03-01 09:00:00",
      "2025-03-01T09:00:00+01:00",
      "infinity",
    ]) {
      await expect(
        env.DB.prepare("UPDATE emails SET status = 'delivered', delivered_at = ?2, version = version + 1 WHERE id = ?1")
          .bind(id, bad)
          .run(),
        bad,
      ).rejects.toThrow(/INVALID_TIMESTAMP/);
      await expect(insertEmail(emailRow({ sent_at: bad })), bad).rejects.toThrow(/INVALID_TIMESTAMP/);
    }
    expect(await env.DB.prepare("SELECT status, version FROM emails WHERE id = ?1").bind(id).first()).toEqual({
      status: "sent",
      version: 1,
    });
    // The ends of the range are fine.
    await env.DB.prepare(
      "UPDATE emails SET status = 'delivered', delivered_at = '9999-12-31T23:59:59.999Z', version = version + 1 WHERE id = ?1",
    )
      .bind(id)
      .run();
    await env.DB.prepare("UPDATE sync_outbox SET published_at = 'x' WHERE row_id = ?1").bind(id).run();
  });

  it("a failed send can go back to pending for a retry (no timestamp to stamp)", async () => {
    const failed = await send({
      ...base,
      prospect_id: await prospect(),
      status: "failed",
      failed_at: "2025-03-01T08:00:00Z",
      error: "SMTP 421",
    });
    expect(failed.status).toBe(201);
    const retry = await patch(failed.json.data.email.id, { status: "pending", expectedVersion: 1, error: null });
    expect(retry.status).toBe(200);
    expect(retry.json.data.email).toMatchObject({
      status: "pending",
      version: 2,
      error: null,
      failed_at: "2025-03-01T08:00:00.000Z",
    });
  });

  it("refuses a duplicate id with 409 ALREADY_EXISTS", async () => {
    const prospect_id = await prospect();
    const id = crypto.randomUUID();
    expect((await send({ ...base, id, prospect_id, status: "pending" })).status).toBe(201);
    const again = await send({ ...base, id, prospect_id, status: "pending" });
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe("ALREADY_EXISTS");
  });

  it("D1's own triggers refuse an invalid transition and an update that does not bump the version", async () => {
    const { json } = await send({ ...base, prospect_id: await prospect(), status: "pending" });
    const id = json.data.email.id;
    await expect(
      env.DB.prepare(
        "UPDATE emails SET status = 'replied', replied_at = '2025-01-01T00:00:00.000Z', sent_at = '2025-01-01T00:00:00.000Z', version = version + 1 WHERE id = ?1",
      )
        .bind(id)
        .run(),
    ).rejects.toThrow(/INVALID_TRANSITION/);
    await expect(env.DB.prepare("UPDATE emails SET subject = 'x' WHERE id = ?1").bind(id).run()).rejects.toThrow(
      /VERSION_NOT_BUMPED/,
    );
    await expect(
      env.DB.prepare("UPDATE emails SET status = 'sent', version = version + 1 WHERE id = ?1").bind(id).run(),
    ).rejects.toThrow(/CHECK constraint/);
  });

  it("D1's transition table is exactly the registry's email status machine", async () => {
    const { results } = await env.DB.prepare("SELECT from_status, to_status FROM email_status_transitions").all<{
      from_status: string;
      to_status: string;
    }>();
    const inDb = results.map((r) => `${r.from_status}>${r.to_status}`).sort();
    expect(inDb).toEqual(
      transitionPairs(emailStatusMachine)
        .map(([a, b]) => `${a}>${b}`)
        .sort(),
    );
  });

  it("when the queue refuses, the write stands unpublished and the outbox sweep publishes it", async () => {
    const prospect_id = await prospect();
    const refusing = {
      ...env,
      TO_SUPABASE: {
        send: async () => {
          throw new Error("down");
        },
        sendBatch: async () => {
          throw new Error("down");
        },
      } as unknown as Queue,
    };
    const { recordEmailSend } = await import("../producers/email-writes");
    const result = await recordEmailSend(
      { db: env.DB, queues: queueBindings(refusing) },
      { ...base, prospect_id, direction: "outbound", status: "pending" },
      "t",
    );
    expect(result.published).toBe(false);
    const id = result.email.id;
    expect(await sweepOutbox({ db: env.DB, queues: queueBindings(env) }, { graceSeconds: 0 })).toMatchObject({
      republished: 1,
    });
    await waitFor(async () => (await pgEmail(id))?.version === 1, "swept email in Postgres");
    expect(await sweepOutbox({ db: env.DB, queues: queueBindings(env) }, { graceSeconds: 0 })).toMatchObject({
      republished: 0,
    });
  });
});

describe("email API: an email whose event cannot be queued is refused before anything is written", () => {
  const rowsFor = async (prospect_id: string) => ({
    emails: (await env.DB.prepare("SELECT count(*) AS n FROM emails WHERE prospect_id = ?1")
      .bind(prospect_id)
      .first<{ n: number }>())!.n,
    outbox: (await env.DB.prepare(
      "SELECT count(*) AS n FROM sync_outbox WHERE json_extract(row_image, '$.prospect_id') = ?1",
    )
      .bind(prospect_id)
      .first<{ n: number }>())!.n,
  });

  it("refuses 70,000 Cyrillic characters (within the 100,000-character field, 140,000 bytes) with 413 EVENT_TOO_LARGE", async () => {
    const prospect_id = await prospect();
    const body = "я".repeat(70_000);
    expect(body.length).toBeLessThan(MAX_EVENT_BYTES); // a UTF-16 length check would let it through
    const res = await send({ ...base, prospect_id, status: "pending", body });
    expect(res.status).toBe(413);
    expect(res.json.error).toMatchObject({
      code: "EVENT_TOO_LARGE",
      retryable: false,
      details: { limitBytes: MAX_EVENT_BYTES },
    });
    expect(res.json.error.details.bytes).toBeGreaterThan(140_000);
    expect(await rowsFor(prospect_id)).toEqual({ emails: 0, outbox: 0 });
  });

  it("accepts a body whose event is just within the budget, refuses one character more, and refuses a status change that would outgrow it", async () => {
    // The size of an email's event without its body, measured as the outbox publishes it (with the
    // longest trace id an event may carry, which the API reserves).
    const probe = await send({ ...base, prospect_id: await prospect(), status: "pending", body: "x" });
    const outboxRow = await env.DB.prepare(`SELECT ${OUTBOX_COLUMNS} FROM sync_outbox WHERE row_id = ?1`)
      .bind(probe.json.data.email.id)
      .first<OutboxRow>();
    const withOneByte = new TextEncoder().encode(
      JSON.stringify(await eventFromOutbox(outboxRow!, "email-api", "x".repeat(200))),
    ).byteLength;
    const chars = Math.floor((MAX_EVENT_BYTES - withOneByte + 1) / 2); // Cyrillic: 2 bytes each

    const prospect_id = await prospect();
    const over = await send({ ...base, prospect_id, status: "pending", body: "я".repeat(chars + 1) });
    expect(over.status).toBe(413);
    expect(over.json.error.code).toBe("EVENT_TOO_LARGE");
    expect(await rowsFor(prospect_id)).toEqual({ emails: 0, outbox: 0 });

    const fits = await send({ ...base, prospect_id, status: "pending", body: "я".repeat(chars) });
    expect(fits.status).toBe(201);
    expect(fits.json.data.published).toBe(true);
    const id = fits.json.data.email.id as string;
    const stored = await env.DB.prepare(`SELECT ${OUTBOX_COLUMNS} FROM sync_outbox WHERE row_id = ?1`)
      .bind(id)
      .first<OutboxRow>();
    const bytes = new TextEncoder().encode(
      JSON.stringify(await eventFromOutbox(stored!, "d1-outbox", "x".repeat(200))),
    ).byteLength;
    expect(bytes).toBeLessThanOrEqual(MAX_EVENT_BYTES);
    expect(bytes).toBeGreaterThan(MAX_EVENT_BYTES - 2);
    await waitFor(async () => (await pgEmail(id))?.version === 1, "the large email in Postgres");
    const [pgBody] = await pg()`select length(body)::int as n from emails where id = ${id}`;
    expect(pgBody!.n).toBe(chars);

    // pending -> failed with an error message would push the event over: refused, nothing changes.
    const grow = await patch(id, {
      status: "failed",
      expectedVersion: 1,
      at: "2025-03-01T08:00:00Z",
      error: "e".repeat(2000),
    });
    expect(grow.status).toBe(413);
    expect(grow.json.error.code).toBe("EVENT_TOO_LARGE");
    expect(
      (await env.DB.prepare("SELECT version FROM emails WHERE id = ?1").bind(id).first<{ version: number }>())!.version,
    ).toBe(1);
    expect((await rowsFor(prospect_id)).outbox).toBe(1);
  });
});
