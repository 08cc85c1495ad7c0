import { describe, expect, it } from "vitest";
import { call, pg, pgRow, webhookPayload } from "./support/helpers";
import { recordingQueues } from "./support/recording-queues";

async function prospectRecord() {
  const id = crypto.randomUUID();
  await pg()`insert into prospects (id, name) values (${id}, 'Webhook Test')`;
  return pgRow("prospects", id);
}

describe("POST /webhooks/supabase", () => {
  it("accepts a real payload with the secret: 202 with the event id, one event queued", async () => {
    const q = recordingQueues();
    const record = await prospectRecord();
    const res = await q.post(webhookPayload("INSERT", "prospects", record));
    expect(res.status).toBe(202);
    expect(res.json.success).toBe(true);
    expect(q.sent).toHaveLength(1);
    expect(q.sent[0]).toMatchObject({
      id: res.json.data.eventId,
      entity: "prospects",
      op: "upsert",
      version: 1,
      source: "supabase-webhook",
    });
  });

  it("turns a DELETE into a tombstone event at the next version", async () => {
    const q = recordingQueues();
    const record = await prospectRecord();
    const res = await q.post(webhookPayload("DELETE", "prospects", null, { ...record, version: 4 }));
    expect(res.status).toBe(202);
    expect(q.sent[0]).toMatchObject({ op: "delete", version: 5, row: null, key: { id: record.id } });
  });

  const record = { id: "6a1f2a52-08a4-4c1e-9a8e-0d8e8b3b0c11", name: "x" };
  const cases: Array<[string, string | unknown, Record<string, string> | undefined, number, string]> = [
    ["no Authorization header", webhookPayload("INSERT", "prospects", record), {}, 401, "UNAUTHORIZED"],
    [
      "a wrong secret",
      webhookPayload("INSERT", "prospects", record),
      { authorization: "Bearer nope" },
      401,
      "UNAUTHORIZED",
    ],
    ["a body that is not JSON", "{not json", undefined, 400, "MALFORMED_JSON"],
    ["a JSON body that is not a webhook payload", { hello: "world" }, undefined, 400, "INVALID_PAYLOAD"],
    ["an unknown table", webhookPayload("INSERT", "invoices", record), undefined, 422, "UNKNOWN_TABLE"],
    [
      "a table in another schema",
      { ...webhookPayload("INSERT", "prospects", record), schema: "auth" },
      undefined,
      422,
      "UNKNOWN_TABLE",
    ],
    [
      "a table that is not Supabase-authoritative",
      webhookPayload("INSERT", "emails", record),
      undefined,
      422,
      "NOT_AUTHORITATIVE",
    ],
    [
      "a record that violates the schema",
      webhookPayload("INSERT", "prospects", { ...record, stage: "bogus" }),
      undefined,
      422,
      "SCHEMA_VIOLATION",
    ],
    [
      "a DELETE without old_record.version",
      webhookPayload("DELETE", "prospects", null, { id: record.id }),
      undefined,
      422,
      "SCHEMA_VIOLATION",
    ],
    ["an oversized body", JSON.stringify({ pad: "x".repeat(600 * 1024) }), undefined, 413, "PAYLOAD_TOO_LARGE"],
  ];
  for (const [what, body, headers, status, code] of cases) {
    it(`refuses ${what} with ${status} ${code} and queues nothing`, async () => {
      const q = recordingQueues();
      const res = await q.post(body, headers);
      expect(res.status).toBe(status);
      expect(res.json).toMatchObject({ success: false, error: { code, retryable: false } });
      expect(q.sent).toHaveLength(0);
    });
  }

  it("answers 503 retryable when the queue refuses the event", async () => {
    const q = recordingQueues({ refuse: true });
    const res = await q.post(webhookPayload("INSERT", "prospects", await prospectRecord()));
    expect(res.status).toBe(503);
    expect(res.json.error).toMatchObject({ code: "QUEUE_UNAVAILABLE", retryable: true });
  });

  it("echoes an incoming x-request-id in the envelope and header", async () => {
    const res = await call("POST", "/webhooks/supabase", { body: {}, headers: { "x-request-id": "trace-123" } });
    expect(res.status).toBe(401);
    expect(res.json.meta.requestId).toBe("trace-123");
    expect(res.headers.get("x-request-id")).toBe("trace-123");
    expect(typeof (res.json.meta as { duration: number }).duration).toBe("number");
  });
});
