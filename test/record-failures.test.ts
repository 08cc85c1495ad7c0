import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { failureRow, insertFailedTasks, MAX_STORED_EVENT_BYTES } from "../core/ledger/record-failures";
import { upsertEvent } from "./support/fixtures";

const prospect = (city: string) => ({ id: crypto.randomUUID(), name: "Hotel", city, version: 1 });
const failure = (event: unknown, code: string, message = "refused") =>
  failureRow({
    queue: "to-d1",
    event,
    error_code: code,
    error_message: message,
    retryable: 0,
    attempts: 1,
    last_message_id: crypto.randomUUID(),
    failed_at: new Date().toISOString(),
  });

describe("recording failures stays within D1's limits", () => {
  it("leaves out a row image larger than a queue message, and says so: the failure is still recorded", async () => {
    const event = upsertEvent("prospects", prospect("€".repeat(1_000_000))); // 3 MB in UTF-8
    await insertFailedTasks(env.DB, [failure(event, "BIG_ROW_TEST")]);
    const task = await env.DB.prepare(
      "SELECT event, row_id FROM failed_tasks WHERE error_code = 'BIG_ROW_TEST'",
    ).first<{ event: string; row_id: string }>();
    const stored = JSON.parse(task!.event);
    expect(task!.row_id).toBe(event.key.id);
    expect(stored).toMatchObject({
      id: event.id,
      key: event.key,
      version: 1,
      row: null,
      row_omitted: { bytes: expect.any(Number) },
    });
    expect(stored.row_omitted.bytes).toBeGreaterThan(MAX_STORED_EVENT_BYTES);
  });

  it("records a hundred large failures at once (more than one bound value holds) and caps long messages", async () => {
    const rows = Array.from({ length: 100 }, () =>
      failure(upsertEvent("prospects", prospect("ж".repeat(50_000))), "MANY_ROWS_TEST", "x".repeat(50_000)),
    );
    await insertFailedTasks(env.DB, rows);
    const count = await env.DB.prepare(
      "SELECT count(*) AS n, max(length(error_message)) AS longest FROM failed_tasks WHERE error_code = 'MANY_ROWS_TEST'",
    ).first<{ n: number; longest: number }>();
    expect(count).toMatchObject({ n: 100 });
    expect(count!.longest).toBeLessThan(2100);
    const group = await env.DB.prepare(
      "SELECT failures FROM failure_groups WHERE error_code = 'MANY_ROWS_TEST'",
    ).first<{ failures: number }>();
    expect(group!.failures).toBe(100);
  });
});
