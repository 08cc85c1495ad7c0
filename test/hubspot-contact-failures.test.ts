import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { publishContactEvents } from "../producers/hubspot-contacts";
import { queueBindings } from "../producers/publish";
import { contactUuid } from "../schemas/hubspot/contact-id";
import { deliver } from "./support/fixtures";
import { call, pg, SECRETS, waitFor } from "./support/helpers";
import {
  contact,
  contactRows,
  contactTask,
  eventsFor,
  failedTasksApi,
  newHubSpotId,
  sendToQueue,
} from "./support/hubspot";

// A HubSpot contact that fails: dead-lettered with its reason into failed_tasks, replayed by an
// operator; and what HubSpot-owned entities do not support yet (reconcile, backfill). Events go
// through the real queues here (see sendToQueue); the DLQ handler is called directly (it writes D1 only).

describe("a contact that fails validation", () => {
  it("reaches failed_tasks through the dead-letter path with its reason; nothing is written", async () => {
    const withNul = newHubSpotId();
    const badEmail = newHubSpotId();
    const good = newHubSpotId();
    const made = await eventsFor([
      contact(withNul, "2025-08-01T00:00:00.000Z", { jobtitle: "CEO\u0000" }),
      contact(badEmail, "2025-08-01T00:00:00.000Z", { email: "not an email" }),
      contact(good, "2025-08-01T00:00:00.000Z"),
    ]);
    expect(made.events.map((e) => e.key.id)).toEqual([contactUuid(good)]);
    expect(made.failures.map((f) => [f.hubspotId, f.dlq, f.letter.error.code])).toEqual([
      [withNul, "to-supabase-dlq", "SCHEMA_VIOLATION"],
      [badEmail, "to-supabase-dlq", "SCHEMA_VIOLATION"],
    ]);

    // As the fetch side sends them: events to to-supabase, dead letters to its DLQ.
    expect(await publishContactEvents(queueBindings(env), made)).toEqual({ published: 1, deadLettered: 2 });
    await waitFor(async () => (await contactRows(good)).length === 1, "the valid neighbour applied");
    const nulTask = await waitFor(() => contactTask(contactUuid(withNul)), "failed task for the NUL contact");
    expect(nulTask).toMatchObject({
      queue: "to-supabase",
      entity: "contacts",
      op: "upsert",
      error_code: "SCHEMA_VIOLATION",
      retryable: false,
      status: "open",
    });
    expect(nulTask.error_message).toMatch(/data\.jobtitle.*NUL/);
    const emailTask = await waitFor(() => contactTask(contactUuid(badEmail)), "failed task for the bad email");
    expect(emailTask.error_message).toMatch(/email.*email address/);
    expect(await contactRows(withNul)).toHaveLength(0);
    expect(await contactRows(badEmail)).toHaveLength(0);
    expect(await contactRows(good)).toHaveLength(1);

    // The same bad state read again is the same task, not a second one.
    const reread = await eventsFor([contact(withNul, "2025-08-01T00:00:00.000Z", { jobtitle: "CEO\u0000" })]);
    await deliver(
      "to-supabase-dlq",
      reread.failures.map((f) => f.letter),
    );
    const list = await failedTasksApi("GET", `?entity=contacts&limit=200`);
    expect(list.json.data.items.filter((t: { row_id: string }) => t.row_id === contactUuid(withNul))).toHaveLength(1);
  });

  it("an original replay fails again until fixed; once HubSpot holds the fix the replay is superseded, never overwriting it", async () => {
    const id = newHubSpotId();
    const bad = await eventsFor([contact(id, "2025-09-01T00:00:00.000Z", { email: "two@@signs.test" })]);
    await deliver(
      "to-supabase-dlq",
      bad.failures.map((f) => f.letter),
    );
    const task = await waitFor(() => contactTask(contactUuid(id)), "failed task");

    const because = { reason: "retry after looking", mode: "original" };
    expect((await failedTasksApi("POST", `/${task.id}/replay`, because)).status).toBe(202);
    await waitFor(
      async () => (await failedTasksApi("GET", `/${task.id}`)).json.data.task.failure_count === 2,
      "second failure recorded",
      15_000,
    );
    expect(await contactRows(id)).toHaveLength(0);

    // Fixed in HubSpot: a later updatedAt, so a newer version.
    const fixed = await eventsFor([contact(id, "2025-09-01T00:05:00.000Z", { email: "two@signs.test" })]);
    await sendToQueue("to-supabase", fixed.events);
    await waitFor(async () => (await contactRows(id)).length === 1, "the fixed contact applied");
    expect(await contactRows(id)).toMatchObject([{ email: "two@signs.test" }]);
    const replay = await failedTasksApi("POST", `/${task.id}/replay`, because);
    expect(replay.status).toBe(202);
    expect(replay.json.data.outcome).toBe("superseded");
    expect(await contactRows(id)).toMatchObject([{ email: "two@signs.test" }]);
  });

  it("a contact Supabase refused (worker deployed before migration 0010 registered the replica) applies when replayed after the fix", async () => {
    const id = newHubSpotId();
    const made = await eventsFor([contact(id, "2025-10-01T00:00:00.000Z")]);
    await pg()`delete from sync.replica_tables where entity = 'contacts'`;
    let task: Record<string, any>;
    try {
      // Through the real queue and its consumer, as the fetch side sends them.
      await sendToQueue("to-supabase", made.events);
      task = await waitFor(() => contactTask(contactUuid(id)), "failed task", 15_000);
    } finally {
      await pg()`insert into sync.replica_tables (entity, derived_columns)
        values ('contacts', '{prospect_id,last_sync,sync_status}') on conflict do nothing`;
    }
    expect(task.error_message).toMatch(/NOT_A_REPLICA/);
    expect(await contactRows(id)).toHaveLength(0);

    const replay = await failedTasksApi("POST", `/${task.id}/replay`, {
      reason: "migration applied",
      mode: "original",
    });
    expect(replay.status).toBe(202);
    await waitFor(async () => (await contactRows(id)).length === 1, "contact applied by the replay", 15_000);
    const resolved = await waitFor(async () => {
      const t = (await failedTasksApi("GET", `/${task.id}`)).json.data.task;
      return t.status === "resolved" ? t : null;
    }, "task resolved");
    expect(resolved).toMatchObject({ replay_count: 1 });
  });

  it("reconcile and backfill say plainly that HubSpot-authoritative entities are not supported yet; a refresh replay goes to HubSpot", async () => {
    const id = newHubSpotId();
    const bad = await eventsFor([
      contact(id, "2025-11-01T00:00:00.000Z", { email: "nope" }),
      contact(newHubSpotId(), "2025-11-01T00:00:00.000Z"),
    ]);
    await deliver(
      "to-supabase-dlq",
      bad.failures.map((f) => f.letter),
    );
    await sendToQueue("to-supabase", bad.events);
    await waitFor(
      async () => (await contactRows(bad.events[0]!.row!.hubspot_id as string)).length === 1,
      "a contact applied",
    );
    const task = await waitFor(() => contactTask(contactUuid(id)), "failed task");
    // The worker's route reads HubSpot (test/hubspot-contact-replay.test.ts covers what it reads).
    // This worker has no HubSpot app configured (HUBSPOT_CLIENT_ID is empty): which refusal
    // depends on whether another file has a portal connected in the shared Postgres. Either
    // way the task is left as it was.
    const refresh = await failedTasksApi("POST", `/${task.id}/replay`, { reason: "re-read it", mode: "refresh" });
    expect([
      [409, "HUBSPOT_NOT_CONNECTED"],
      [503, "CONFIG_MISSING"],
    ]).toContainEqual([refresh.status, refresh.json.error.code]);
    expect(await contactTask(contactUuid(id))).toMatchObject({ status: "open", replay_count: 0 });

    const ops = { token: SECRETS.admin, headers: { "x-operator": "test-operator" } };
    const reconcile = await call("POST", "/v1/admin/reconcile", {
      ...ops,
      body: { entity: "contacts", repair: false },
    });
    expect(reconcile.status).toBe(422);
    expect(reconcile.json.error.code).toBe("EXTERNAL_AUTHORITY_UNSUPPORTED");
    const backfill = await call("POST", "/v1/admin/backfill/contacts", { ...ops, body: { reason: "full copy" } });
    expect(backfill.status).toBe(422);
    expect(backfill.json.error.code).toBe("EXTERNAL_AUTHORITY_UNSUPPORTED");

    const status = await call("GET", "/v1/sync/status", { token: SECRETS.admin });
    expect(status.status).toBe(200);
    const entry = status.json.data.entities.find((e: { entity: string }) => e.entity === "contacts");
    expect(entry).toMatchObject({ authority: "hubspot", replica: "supabase", backlog: { external: "hubspot" } });
    expect(entry.rows.d1).toBeNull();
    expect(entry.rows.supabase).toBeGreaterThan(0);
  });
});
