import { describe, expect, it } from "vitest";
import { MAX_EVENT_BYTES } from "../schemas/event";
import { MAX_BATCH_WEBHOOK_ROWS } from "../schemas/webhook-payload";
import { pg, pgRow } from "./support/helpers";
import { recordingQueues } from "./support/recording-queues";

// POST /webhooks/supabase/batch: what sync.capture_statement (migration 0011) posts, one chunk of
// one statement's rows. Rows are real Postgres row images (to_jsonb of a committed row), cloned
// under new ids where a test needs many.

const batchQueues = (opts: { refuse?: boolean; acceptCalls?: number } = {}) =>
  recordingQueues({ ...opts, path: "/webhooks/supabase/batch" });

async function prospectImage(): Promise<Record<string, unknown>> {
  const id = crypto.randomUUID();
  await pg()`insert into prospects (id, name) values (${id}, 'Batch Test')`;
  return pgRow("prospects", id);
}

const clones = (image: Record<string, unknown>, n: number) =>
  Array.from({ length: n }, (_, i) => ({ ...image, id: crypto.randomUUID(), name: `Batch ${i}`, version: 3 }));

const batch = (type: "INSERT" | "UPDATE" | "DELETE", rows: unknown[], table = "prospects") => ({
  type,
  schema: "public",
  table,
  chunk: 1,
  chunks: 1,
  skipped: 0,
  [type === "DELETE" ? "old_records" : "records"]: rows,
});

describe("POST /webhooks/supabase/batch", () => {
  it("queues one event per row, validated by the registry, in sendBatch calls of at most 100", async () => {
    const q = batchQueues();
    const rows = clones(await prospectImage(), 250);
    const res = await q.post(batch("UPDATE", rows));
    expect(res.status).toBe(202);
    expect(res.json.data).toEqual({ entity: "prospects", type: "UPDATE", accepted: 250, rejected: [], skipped: 0 });
    expect(q.sendBatchSizes).toEqual([100, 100, 50]);
    expect(q.sent).toHaveLength(250);
    expect(q.sent[17]).toMatchObject({
      entity: "prospects",
      op: "upsert",
      key: { id: rows[17]!.id },
      version: 3,
      source: "supabase-webhook",
      row: { id: rows[17]!.id, name: "Batch 17", version: 3 },
    });
  });

  it("turns DELETE old_records into tombstone events at the next version", async () => {
    const q = batchQueues();
    const ids = [crypto.randomUUID(), crypto.randomUUID()];
    const res = await q.post(
      batch(
        "DELETE",
        ids.map((id) => ({ id, version: 4 })),
      ),
    );
    expect(res.status).toBe(202);
    expect(res.json.data.accepted).toBe(2);
    expect(q.sent).toEqual(
      ids.map((id) => expect.objectContaining({ op: "delete", key: { id }, version: 5, row: null })),
    );
  });

  it("queues the valid rows and lists each invalid one with its code; the invalid ones are not queued", async () => {
    const q = batchQueues();
    const [good, badStage, noId, huge] = clones(await prospectImage(), 4);
    const rows = [
      good,
      { ...badStage, stage: "bogus" },
      { ...noId, id: undefined },
      { ...huge, website: "é".repeat(MAX_EVENT_BYTES / 2 + 10) }, // over the queue message budget in UTF-8 bytes
    ];
    const res = await q.post(batch("INSERT", rows));
    expect(res.status).toBe(202);
    expect(res.json.data.accepted).toBe(1);
    expect(res.json.data.rejected).toEqual([
      { index: 1, id: badStage!.id, code: "SCHEMA_VIOLATION", message: expect.stringContaining("stage") },
      { index: 2, id: null, code: "SCHEMA_VIOLATION", message: expect.stringContaining("id") },
      { index: 3, id: huge!.id, code: "EVENT_TOO_LARGE", message: expect.stringContaining("bytes") },
    ]);
    expect(q.sent).toEqual([expect.objectContaining({ key: { id: good!.id } })]);
  });

  const one = { id: "6a1f2a52-08a4-4c1e-9a8e-0d8e8b3b0c11", version: 1 };
  const tooMany = Array.from({ length: MAX_BATCH_WEBHOOK_ROWS + 1 }, () => one);
  const cases: Array<[string, string | unknown, Record<string, string> | undefined, number, string]> = [
    ["no Authorization header", batch("DELETE", [one]), {}, 401, "UNAUTHORIZED"],
    ["a wrong secret", batch("DELETE", [one]), { authorization: "Bearer nope" }, 401, "UNAUTHORIZED"],
    ["a body that is not JSON", "{not json", undefined, 400, "MALFORMED_JSON"],
    [
      "a row-level webhook payload",
      { type: "INSERT", table: "prospects", schema: "public", record: one, old_record: null },
      undefined,
      400,
      "INVALID_PAYLOAD",
    ],
    ["an empty list of rows", batch("UPDATE", []), undefined, 400, "INVALID_PAYLOAD"],
    [
      "records on a DELETE",
      { ...batch("DELETE", [one]), old_records: undefined, records: [one] },
      undefined,
      400,
      "INVALID_PAYLOAD",
    ],
    ["an unknown table", batch("DELETE", [one], "invoices"), undefined, 422, "UNKNOWN_TABLE"],
    ["a table in another schema", { ...batch("DELETE", [one]), schema: "auth" }, undefined, 422, "UNKNOWN_TABLE"],
    ["a table Supabase does not own", batch("DELETE", [one], "emails"), undefined, 422, "NOT_AUTHORITATIVE"],
    [`more than ${MAX_BATCH_WEBHOOK_ROWS} rows`, batch("DELETE", tooMany), undefined, 413, "TOO_MANY_ROWS"],
    ["a body over 1 MiB", JSON.stringify({ pad: "x".repeat(1024 * 1024 + 1) }), undefined, 413, "PAYLOAD_TOO_LARGE"],
  ];
  for (const [what, body, headers, status, code] of cases) {
    it(`refuses ${what} with ${status} ${code} and queues nothing`, async () => {
      const q = batchQueues();
      const res = await q.post(body, headers);
      expect(res.status).toBe(status);
      expect(res.json).toMatchObject({ success: false, error: { code, retryable: false } });
      expect(q.sent).toHaveLength(0);
    });
  }

  it("answers 503 retryable when the queue refuses", async () => {
    const q = batchQueues({ refuse: true });
    const res = await q.post(batch("UPDATE", clones(await prospectImage(), 3)));
    expect(res.status).toBe(503);
    expect(res.json.error).toMatchObject({ code: "QUEUE_UNAVAILABLE", retryable: true });
    expect(q.sent).toHaveLength(0);
  });

  it("answers 503 when the queue refuses a later sendBatch; what was sent stays queued (idempotent events)", async () => {
    const q = batchQueues({ acceptCalls: 1 });
    const res = await q.post(batch("UPDATE", clones(await prospectImage(), 150)));
    expect(res.status).toBe(503);
    expect(res.json.error).toMatchObject({ code: "QUEUE_UNAVAILABLE", retryable: true });
    // The first 100 were queued before the refusal: a resend (none from pg_net; the sweep's
    // republish) applies them again as no-ops, and the other 50 come from the change-log sweep.
    expect(q.sendBatchSizes).toEqual([100]);
  });
});
