import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DEFAULT_PAYLOAD_RETENTION_DAYS, pruneExpired } from "../src/services/retention";
import { postgresRpc } from "../core/stores/supabase-postgres";
import { pg } from "./support/helpers";
import { op, prospectEvent, seedFailures, taskOfEvent } from "./support/operator";

const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();

async function settle(eventId: string, status: string, resolvedAt: string | null) {
  await env.DB.prepare("UPDATE failed_tasks SET status = ?2, resolved_at = ?3 WHERE event_id = ?1")
    .bind(eventId, status, resolvedAt)
    .run();
}
const eventOf = async (eventId: string) => JSON.parse(String((await taskOfEvent(eventId))!.event));

describe("failed_tasks payload retention (hourly cron)", () => {
  it("nulls the row image of tasks settled longer ago than the retention, keeps key, version, entity and history", async () => {
    const resolvedOld = prospectEvent(undefined, 3, { contact_email: "gm@bellevue.test", contact_name: "Anna Muster" });
    const supersededOld = prospectEvent(undefined, 2, { contact_email: "x@y.test" });
    const resolvedRecent = prospectEvent();
    const openOld = prospectEvent();
    const raw = { not: "an event", email: "someone@private.test" };
    await seedFailures([resolvedOld, supersededOld, resolvedRecent, openOld]);
    await seedFailures([raw], { error_code: "RETRIES_EXHAUSTED" });
    const rawTask = await env.DB.prepare(
      "SELECT id, event_id FROM failed_tasks WHERE event LIKE '%someone@private.test%'",
    ).first<{ id: string; event_id: string }>();
    await settle(resolvedOld.id, "resolved", ago(31));
    await settle(supersededOld.id, "superseded", ago(45));
    await settle(resolvedRecent.id, "resolved", ago(29));
    await settle(rawTask!.event_id, "resolved", ago(31));
    await env.DB.prepare("UPDATE failed_tasks SET first_failed_at = ?2, last_failed_at = ?2 WHERE event_id = ?1")
      .bind(openOld.id, ago(90))
      .run();
    const historyBefore = (await op("GET", `/v1/admin/failed-tasks/${(await taskOfEvent(resolvedOld.id))!.id}`)).json
      .data.history;

    const result = await pruneExpired({
      db: env.DB,
      rpc: postgresRpc(pg()),
      payloadRetentionDays: DEFAULT_PAYLOAD_RETENTION_DAYS,
    });
    expect(result.d1.redactedTaskPayloads).toBeGreaterThanOrEqual(3);

    for (const e of [resolvedOld, supersededOld]) {
      const { row, replay, ...envelope } = e as typeof e & { replay?: unknown };
      expect(replay).toBeUndefined();
      expect(await eventOf(e.id)).toEqual({ ...envelope, row: null });
      expect(await taskOfEvent(e.id)).toMatchObject({
        entity: "prospects",
        row_id: e.key.id,
        op: "upsert",
        event_redacted_at: expect.any(String),
      });
      expect(row).not.toBeNull();
    }
    expect(JSON.stringify(await eventOf(resolvedOld.id))).not.toMatch(/bellevue|Anna/);
    expect(await eventOf(resolvedRecent.id)).toEqual(resolvedRecent); // settled 29 days ago: kept
    expect(await eventOf(openOld.id)).toEqual(openOld); // never settled: kept (it may still be replayed)
    expect((await taskOfEvent(openOld.id))!.event_redacted_at).toBeNull();
    expect(await eventOf(rawTask!.event_id)).toBeNull(); // not an event: nothing worth keeping

    // The operator API shows what is left and when it went; the history is untouched.
    const detail = (await op("GET", `/v1/admin/failed-tasks/${(await taskOfEvent(resolvedOld.id))!.id}`)).json.data;
    expect(detail.task).toMatchObject({
      status: "resolved",
      event: { key: { id: resolvedOld.key.id }, version: 3, row: null },
      event_redacted_at: expect.any(String),
    });
    expect(detail.history).toEqual(historyBefore);

    // Idempotent: a second run finds nothing new among these.
    const stamp = (await taskOfEvent(resolvedOld.id))!.event_redacted_at;
    await pruneExpired({ db: env.DB, rpc: postgresRpc(pg()), payloadRetentionDays: DEFAULT_PAYLOAD_RETENTION_DAYS });
    expect((await taskOfEvent(resolvedOld.id))!.event_redacted_at).toBe(stamp);

    // The retention is configurable (FAILED_TASK_PAYLOAD_RETENTION_DAYS): 7 days takes the recent one too.
    await pruneExpired({ db: env.DB, rpc: postgresRpc(pg()), payloadRetentionDays: 7 });
    expect((await eventOf(resolvedRecent.id)).row).toBeNull();
    expect((await eventOf(openOld.id)).row).not.toBeNull();
  });

  it("a redacted task that fails again (same event) gets its full event back and is no longer marked redacted", async () => {
    const event = prospectEvent();
    await seedFailures([event]);
    await settle(event.id, "resolved", ago(40));
    await pruneExpired({ db: env.DB, rpc: postgresRpc(pg()) });
    expect((await eventOf(event.id)).row).toBeNull();
    await seedFailures([event], { error_code: "FAILED_AGAIN" });
    expect(await taskOfEvent(event.id)).toMatchObject({
      status: "open",
      event_redacted_at: null,
      error_code: "FAILED_AGAIN",
    });
    expect(await eventOf(event.id)).toEqual(event);
  });
});
