import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { deliver, emailRow, insertCrmRows, upsertEvent } from "./support/fixtures";
import { call, d1Row, pg, SECRETS, waitFor } from "./support/helpers";

const admin = (method: string, path: string, body?: unknown) =>
  call(method, `/v1/admin/failed-tasks${path}`, {
    token: SECRETS.admin,
    body,
    headers: { "x-operator": "test-operator" },
  });
const because = { reason: "the cause is fixed" };

async function taskFor(rowId: string) {
  const list = await admin("GET", `?limit=200`);
  return (list.json.data.items as Array<Record<string, any>>).find((t) => t.row_id === rowId) ?? null;
}

describe("poison events end in failed_tasks with their reason and replay once fixed", () => {
  it("an email for a prospect Supabase does not have: dead-lettered with FOREIGN_KEY_VIOLATION, replayed after the fix", async () => {
    const prospectId = crypto.randomUUID(); // not in Postgres yet
    const sent = await call("POST", "/v1/emails", {
      token: SECRETS.api,
      body: {
        prospect_id: prospectId,
        to_email: "a@b.test",
        from_email: "s@crm.test",
        subject: "Hi",
        body: "…",
        status: "sent",
        sent_at: new Date().toISOString(),
      },
    });
    expect(sent.status).toBe(201);
    const emailId = sent.json.data.email.id as string;

    const task = await waitFor(() => taskFor(emailId), "failed task for the poison email", 15_000);
    expect(task).toMatchObject({
      queue: "to-supabase",
      entity: "emails",
      op: "upsert",
      error_code: "FOREIGN_KEY_VIOLATION",
      retryable: false,
      status: "open",
      failure_count: 1,
      attempts: 1,
    });
    expect(task.error_message).toMatch(/foreign key/i);

    const shown = await admin("GET", `/${task.id}`);
    expect(shown.json.data.task.event).toMatchObject({
      id: task.event_id,
      entity: "emails",
      key: { id: emailId },
      version: 1,
    });

    // Replaying before the cause is fixed fails again: same task, counted, reopened.
    expect((await admin("POST", `/${task.id}/replay`, because)).status).toBe(202);
    await waitFor(
      async () => (await admin("GET", `/${task.id}`)).json.data.task.failure_count === 2,
      "second failure recorded",
      15_000,
    );
    const again = (await admin("GET", `/${task.id}`)).json.data.task;
    expect(again).toMatchObject({ status: "open", replay_count: 1 });

    // Fix the cause in the authoritative store, then replay.
    await pg()`insert into prospects (id, name) values (${prospectId}, 'Arrived late')`;
    const replay = await admin("POST", `/${task.id}/replay`, because);
    expect(replay.status).toBe(202);
    expect(replay.json.data.task.status).toBe("replaying");
    await waitFor(
      async () => (await pg()`select 1 from emails where id = ${emailId}`).length === 1,
      "email in Postgres after replay",
      15_000,
    );
    const resolved = await waitFor(async () => {
      const t = (await admin("GET", `/${task.id}`)).json.data.task;
      return t.status === "resolved" ? t : null;
    }, "task resolved");
    expect(resolved).toMatchObject({ replay_count: 2, failure_count: 2 });
    expect(resolved.resolved_at).toMatch(/Z$/);

    const replayAgain = await admin("POST", `/${task.id}/replay`, because);
    expect(replayAgain.status).toBe(409);
    expect(replayAgain.json.error.code).toBe("ALREADY_RESOLVED");
  });

  it("a schema-violating event on to-d1 is dead-lettered at once (no retries) with SCHEMA_VIOLATION", async () => {
    const rows = await insertCrmRows();
    const bad = upsertEvent("prospects", { ...rows.prospects, stage: "promoted" });
    const { result, ids } = await deliver("to-d1", [bad, upsertEvent("campaigns", rows.campaigns)]);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks.sort()).toEqual([...ids].sort()); // the poison was handed to the DLQ, its neighbour applied
    expect(await d1Row("campaigns", String(rows.campaigns.id))).not.toBeNull();
    const task = await waitFor(
      () => taskFor(String(rows.prospects.id)),
      "failed task for the schema violation",
      15_000,
    );
    expect(task).toMatchObject({ queue: "to-d1", error_code: "SCHEMA_VIOLATION", retryable: false });
    expect(task.error_message).toMatch(/stage/);
  });

  it("a message Cloudflare moved to the DLQ without a reason is recorded as RETRIES_EXHAUSTED, once per message", async () => {
    const event = upsertEvent("emails", emailRow());
    const first = await deliver("to-supabase-dlq", [event], { attempts: 1 });
    expect(first.result.ackAll).toBe(true);
    const task = await waitFor(() => taskFor(event.key.id), "failed task");
    expect(task).toMatchObject({ queue: "to-supabase", error_code: "RETRIES_EXHAUSTED", failure_count: 1 });
    // The same DLQ message delivered twice changes nothing.
    const row = await env.DB.prepare("SELECT last_message_id FROM failed_tasks WHERE id = ?1")
      .bind(task.id)
      .first<{ last_message_id: string }>();
    const { createMessageBatch, createExecutionContext, getQueueResult } = await import("cloudflare:test");
    const worker = (await import("../src/index")).default;
    const batch = createMessageBatch("to-supabase-dlq", [
      { id: row!.last_message_id, timestamp: new Date(), attempts: 2, body: event },
    ]);
    const ctx = createExecutionContext();
    await worker.queue!(batch as MessageBatch<unknown>, env);
    await getQueueResult(batch, ctx);
    expect((await taskFor(event.key.id))!.failure_count).toBe(1);
  });
});

describe("operator API", () => {
  it("requires the admin token", async () => {
    expect((await call("GET", "/v1/admin/failed-tasks")).status).toBe(401);
    expect((await call("GET", "/v1/admin/failed-tasks", { token: SECRETS.api })).status).toBe(401);
  });

  it("filters and paginates newest first; unknown ids are 404; bad filters are 400", async () => {
    const events = Array.from({ length: 5 }, () => upsertEvent("emails", emailRow()));
    await deliver("to-supabase-dlq", events);
    await deliver("to-d1-dlq", [upsertEvent("prospects", { id: crypto.randomUUID() } as never)]);
    const page1 = await admin("GET", "?queue=to-supabase&error_code=RETRIES_EXHAUSTED&limit=2");
    expect(page1.status).toBe(200);
    expect(page1.json.data.items).toHaveLength(2);
    expect(page1.json.data.items[0].event).toBeUndefined(); // lists stay small; show returns the event
    const seen = [...page1.json.data.items];
    let cursor = page1.json.data.nextCursor;
    while (cursor) {
      const next = await admin("GET", `?queue=to-supabase&error_code=RETRIES_EXHAUSTED&limit=2&cursor=${cursor}`);
      seen.push(...next.json.data.items);
      cursor = next.json.data.nextCursor;
    }
    const ids = seen.map((t) => t.id);
    expect(ids).toEqual([...ids].sort().reverse());
    expect(new Set(ids).size).toBe(ids.length);
    expect(seen.every((t) => t.queue === "to-supabase")).toBe(true);
    for (const e of events) expect(seen.some((t) => t.event_id === e.id)).toBe(true);

    const d1Only = await admin("GET", "?queue=to-d1&entity=prospects");
    expect(d1Only.json.data.items.every((t: { queue: string }) => t.queue === "to-d1")).toBe(true);

    expect((await admin("GET", "/01ARZ3NDEKTSV4RRFFQ69G5FAV")).status).toBe(404);
    const bad = await admin("GET", "?limit=5000");
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("INVALID_REQUEST");
  });
});
