import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { recordFailedTasks } from "../consumers/dead-letter";
import { auditEntrySchema, failureGroupSchema, failedTaskSchema, taskDetailSchema } from "../schemas/operator-api";
import { hmacHex, webhookAlerts } from "../core/ledger/alerts";
import { messagePattern } from "../core/ledger/failure-signature";
import type { OpenedGroup } from "../core/ledger/record-failures";
import { op, prospectEvent, seedFailures } from "./support/operator";
import { call, SECRETS } from "./support/helpers";

let seq = 0;
/** A dead letter as our consumer sends it: the event plus why it failed. */
function letter(event: { id: string }, code: string, message: string) {
  return {
    kind: "dead-letter",
    queue: "to-d1",
    message_id: `m-${++seq}`,
    attempts: 1,
    failed_at: new Date().toISOString(),
    error: { code, message, retryable: false },
    event,
  };
}

/** Runs the dead-letter consumer on a batch, with an alert sink that records what it is told. */
async function dlq(bodies: unknown[], alerts: OpenedGroup[][], ids?: string[]) {
  const batch = createMessageBatch(
    "to-d1-dlq",
    bodies.map((body, i) => ({ id: ids?.[i] ?? `dlq-${++seq}`, timestamp: new Date(), attempts: 1, body })),
  );
  await recordFailedTasks(
    { db: env.DB, alert: async (g) => void (g.length && alerts.push(g)), quarantineAfter: 3 },
    batch as MessageBatch<unknown>,
  );
  await getQueueResult(batch, createExecutionContext());
  return batch;
}

const fkMessage = (id: string) =>
  `insert or update on table "emails" violates foreign key constraint "emails_prospect_id_fkey": Key (prospect_id)=(${id}) is not present in table "prospects".`;

describe("failure groups", () => {
  it("blank out ids, times, numbers and key values but keep the names that tell causes apart", () => {
    const a = messagePattern(fkMessage(crypto.randomUUID()));
    expect(a).toBe(messagePattern(fkMessage(crypto.randomUUID())));
    expect(a).toContain('"emails_prospect_id_fkey"');
    expect(messagePattern("stage: invalid value at 2025-03-01T10:00:00Z after 12 tries")).toBe(
      "stage: invalid value at <time> after <n> tries",
    );
    expect(messagePattern(fkMessage("x"))).not.toBe(
      messagePattern(fkMessage("x").replace("emails_prospect_id_fkey", "emails_mailbox_id_fkey")),
    );
  });

  it("group failures by signature with exact counts, alert once when a group opens, stay quiet when ignored, reopen after resolve", async () => {
    const alerts: OpenedGroup[][] = [];
    const fk = Array.from({ length: 3 }, () => prospectEvent());
    const other = prospectEvent();
    await dlq(
      [
        ...fk.map((e) => letter(e, "FOREIGN_KEY_VIOLATION", fkMessage(crypto.randomUUID()))),
        letter(other, "SCHEMA_VIOLATION", "stage: Invalid option"),
      ],
      alerts,
    );
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.map((g) => g.error_code).sort()).toEqual(["FOREIGN_KEY_VIOLATION", "SCHEMA_VIOLATION"]);
    expect(alerts[0]!.every((g) => !g.reopened)).toBe(true);

    const listed = await op("GET", "/v1/admin/failure-groups?entity=prospects");
    expect(listed.status).toBe(200);
    const groups = listed.json.data.items.map((g: unknown) => failureGroupSchema.parse(g));
    const fkGroup = groups.find((g: { error_code: string }) => g.error_code === "FOREIGN_KEY_VIOLATION")!;
    expect(fkGroup).toMatchObject({
      status: "open",
      failures: 3,
      tasks: 3,
      open_tasks: 3,
      queue: "to-d1",
      entity: "prospects",
    });
    expect(fkGroup.message_pattern).toContain("=(…)");

    // The same dead letters delivered again (a redelivered batch) change nothing and alert nobody.
    const again = await dlq([letter(fk[0]!, "FOREIGN_KEY_VIOLATION", fkMessage("a"))], alerts, ["dup-1"]);
    await dlq([again.messages[0]!.body], alerts, ["dup-1"]);
    expect((await op("GET", `/v1/admin/failure-groups/${fkGroup.id}`)).json.data.group.failures).toBe(4);

    // Changing a group's status needs an operator and a reason, and is audited.
    expect(
      (await op("POST", `/v1/admin/failure-groups/${fkGroup.id}/ignore`, { reason: "known, harmless" }, null)).json
        .error.code,
    ).toBe("OPERATOR_REQUIRED");
    expect((await op("POST", `/v1/admin/failure-groups/${fkGroup.id}/ignore`, {})).json.error.code).toBe(
      "INVALID_REQUEST",
    );
    const ignored = await op("POST", `/v1/admin/failure-groups/${fkGroup.id}/ignore`, {
      reason: "staging prospects, known and harmless",
    });
    expect(ignored.json.data.group).toMatchObject({
      status: "ignored",
      status_changed_by: "alice@ops",
      status_reason: "staging prospects, known and harmless",
    });
    expect(
      (await op("POST", `/v1/admin/failure-groups/${fkGroup.id}/ignore`, { reason: "again" })).json.error.code,
    ).toBe("NO_CHANGE");

    // An ignored group stays quiet and ignored when new failures of it arrive; counts still move.
    await dlq([letter(prospectEvent(), "FOREIGN_KEY_VIOLATION", fkMessage(crypto.randomUUID()))], alerts);
    expect(alerts).toHaveLength(1);
    const quiet = (await op("GET", `/v1/admin/failure-groups/${fkGroup.id}`)).json.data;
    expect(quiet.group).toMatchObject({ status: "ignored", failures: 5, tasks: 4 });
    expect(quiet.examples.map((t: unknown) => failedTaskSchema.parse(t).group_id)).toEqual(Array(4).fill(fkGroup.id));
    // Ignored means known and harmless: sync status no longer counts its tasks as needing attention.
    const status = (await op("GET", "/v1/sync/status")).json.data;
    expect(status.entities.find((e: { entity: string }) => e.entity === "prospects").openFailedTasks).toBe(1);

    // A resolved group that fails again reopens, and that is alerted (a regression).
    await op("POST", `/v1/admin/failure-groups/${fkGroup.id}/resolve`, { reason: "prospects restored" });
    await dlq([letter(prospectEvent(), "FOREIGN_KEY_VIOLATION", fkMessage(crypto.randomUUID()))], alerts);
    expect(alerts).toHaveLength(2);
    expect(alerts[1]).toEqual([expect.objectContaining({ id: fkGroup.id, reopened: true })]);
    expect((await op("GET", `/v1/admin/failure-groups/${fkGroup.id}`)).json.data.group).toMatchObject({
      status: "open",
      status_changed_by: "system",
    });

    const audit = await op("GET", `/v1/admin/audit?target=${fkGroup.id}`);
    const entries = audit.json.data.items.map((e: unknown) => auditEntrySchema.parse(e));
    expect(entries.map((e: { action: string }) => e.action)).toEqual(["resolve", "ignore"]);
    expect(entries[1]).toMatchObject({
      actor: "alice@ops",
      reason: "staging prospects, known and harmless",
      target_type: "group",
      result: { from: "open", to: "ignored" },
    });
  });

  it("the alert webhook gets the opened groups, signed with the secret; a failing receiver loses nothing", async () => {
    const seen: Array<{ url: string; body: string; signature: string | null }> = [];
    const receiver = (async (url: string, init: RequestInit) => {
      seen.push({ url, body: String(init.body), signature: new Headers(init.headers).get("x-sds-signature") });
      return new Response("ok");
    }) as typeof fetch;
    const group: OpenedGroup = {
      id: "0123456789abcdef",
      queue: "to-d1",
      entity: "prospects",
      error_code: "X",
      message_pattern: "x",
      reopened: false,
    };
    await webhookAlerts("https://alerts.example.test/hook", "s3cret", receiver)([group]);
    expect(seen).toHaveLength(1);
    expect(JSON.parse(seen[0]!.body)).toMatchObject({ type: "failure_groups.opened", groups: [group] });
    expect(seen[0]!.signature).toBe(await hmacHex("s3cret", seen[0]!.body));
    await webhookAlerts("https://alerts.example.test/hook", undefined, receiver)([]);
    expect(seen).toHaveLength(1); // nothing opened, nothing sent

    // A receiver that is down does not fail the dead-letter batch: the failure is recorded and acked.
    const down = (async () => {
      throw new TypeError("connect ECONNREFUSED");
    }) as typeof fetch;
    const event = prospectEvent();
    const batch = createMessageBatch("to-d1-dlq", [
      { id: "down-1", timestamp: new Date(), attempts: 1, body: letter(event, "BRAND_NEW_CODE", "never seen") },
    ]);
    await recordFailedTasks(
      { db: env.DB, alert: webhookAlerts("https://alerts.example.test/hook", undefined, down) },
      batch as MessageBatch<unknown>,
    );
    expect((await getQueueResult(batch, createExecutionContext())).ackAll).toBe(true);
    expect(await env.DB.prepare("SELECT status FROM failed_tasks WHERE event_id = ?1").bind(event.id).first()).toEqual({
      status: "open",
    });
  });
});

describe("inspection", () => {
  it("filters by time range, entity, queue, error code, group, status and attempts", async () => {
    const alerts: OpenedGroup[][] = [];
    const events = Array.from({ length: 4 }, () => prospectEvent());
    const batch = events.map((e, i) => ({ ...letter(e, i < 2 ? "AAA_CODE" : "BBB_CODE", "m"), attempts: i + 1 }));
    const before = new Date(Date.now() - 1000).toISOString();
    await dlq(batch, alerts);
    const after = new Date(Date.now() + 1000).toISOString();
    const ids = async (q: string) =>
      (await op("GET", `/v1/admin/failed-tasks?${q}`)).json.data.items
        .map((t: { event_id: string }) => t.event_id)
        .sort();
    expect(await ids("error_code=AAA_CODE")).toEqual([events[0]!.id, events[1]!.id].sort());
    expect(await ids("error_code=BBB_CODE&min_attempts=4")).toEqual([events[3]!.id]);
    expect(await ids("error_code=BBB_CODE&max_attempts=3")).toEqual([events[2]!.id]);
    expect(await ids(`error_code=AAA_CODE&since=${before}&until=${after}`)).toHaveLength(2);
    expect(await ids(`error_code=AAA_CODE&until=${before}`)).toEqual([]);
    expect(await ids("error_code=AAA_CODE&queue=to-supabase")).toEqual([]);
    const group = (await op("GET", "/v1/admin/failed-tasks?error_code=AAA_CODE")).json.data.items[0].group_id;
    expect(await ids(`group=${group}&status=open&entity=prospects`)).toHaveLength(2);
    const bad = await op("GET", "/v1/admin/failed-tasks?since=yesterday");
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("INVALID_REQUEST");
  });

  it("shows a task with its full event and every failure, replay and outcome", async () => {
    const alerts: OpenedGroup[][] = [];
    const event = prospectEvent(undefined, 1, { stage: "promoted" }); // fails validation every time
    await dlq([letter(event, "SCHEMA_VIOLATION", "stage: Invalid option")], alerts);
    const task = (await op("GET", "/v1/admin/failed-tasks?error_code=SCHEMA_VIOLATION")).json.data.items.find(
      (t: { event_id: string }) => t.event_id === event.id,
    );
    const replayed = await op("POST", `/v1/admin/failed-tasks/${task.id}/replay`, { reason: "try once more" });
    expect(replayed.status).toBe(202);
    expect(replayed.json.data).toMatchObject({ outcome: "sent", task: { status: "replaying", replay_count: 1 } });
    // The replay fails again in the real consumer, goes to the DLQ and back to failed_tasks.
    let detail: ReturnType<typeof taskDetailSchema.parse> | undefined;
    for (let i = 0; i < 100 && detail?.history.length !== 3; i++) {
      await new Promise((r) => setTimeout(r, 100));
      detail = taskDetailSchema.parse((await op("GET", `/v1/admin/failed-tasks/${task.id}`)).json.data);
    }
    expect(detail!.task.event).toMatchObject({ id: event.id, key: { id: event.key.id }, row: { stage: "promoted" } });
    expect(detail!.task.event).not.toHaveProperty("replay"); // the stored event is the event, the marker lives in the history
    expect(detail!.history.map((h) => h.kind)).toEqual(["failure", "replay", "failure"]);
    expect(detail!.history[1]).toMatchObject({ actor: "alice@ops", mode: "original", job_id: null });
    expect(detail!.task).toMatchObject({ status: "open", failure_count: 2, replay_count: 1 });
  });

  it("serves the OpenAPI document of every operator route", async () => {
    const res = await call("GET", "/v1/openapi.json");
    expect(res.status).toBe(200);
    const doc = res.json as unknown as {
      openapi: string;
      paths: Record<string, Record<string, { parameters: Array<{ name: string }> }>>;
    };
    expect(doc.openapi).toBe("3.1.0");
    for (const path of [
      "/v1/admin/failed-tasks",
      "/v1/admin/failure-groups/{id}/{action}",
      "/v1/admin/replay-plans",
      "/v1/admin/replay-jobs/{id}/cancel",
      "/v1/admin/audit",
      "/v1/hubspot/contacts",
      "/v1/hubspot/sync",
      "/v1/hubspot/sync/status",
      "/v1/hubspot/sessions",
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(doc.paths["/v1/admin/replay-jobs"]!.post!.parameters.map((p) => p.name)).toContain("x-operator");
    expect(doc.paths["/v1/admin/failed-tasks"]!.get!.parameters.map((p) => p.name)).toEqual(
      expect.arrayContaining(["since", "until", "group", "min_attempts"]),
    );
    expect((await call("GET", "/v1/admin/audit", { token: SECRETS.api })).status).toBe(401);
  });
});

describe("failure groups: paging", () => {
  it("pages through every group once, newest failure first, by the previous page's nextCursor; a bad cursor is refused", async () => {
    // Five groups (one error code each), failing at distinct times and two at the same time.
    const codes = ["PAGE_A", "PAGE_B", "PAGE_C", "PAGE_D", "PAGE_E"];
    for (const code of codes) await seedFailures([prospectEvent()], { queue: "to-d1", error_code: code });
    await env.DB.prepare(
      `UPDATE failure_groups SET last_seen_at = CASE error_code WHEN 'PAGE_A' THEN '2090-01-01T00:00:05.000Z'
         WHEN 'PAGE_B' THEN '2090-01-01T00:00:04.000Z' ELSE '2090-01-01T00:00:03.000Z' END
        WHERE error_code LIKE 'PAGE_%'`,
    ).run();
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await op("GET", `/v1/admin/failure-groups?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      seen.push(...res.json.data.items.map((g: { error_code: string }) => g.error_code));
      cursor = res.json.data.nextCursor;
      pages++;
    } while (cursor && pages < 20);
    const ours = seen.filter((c) => c.startsWith("PAGE_"));
    expect(ours.slice(0, 2)).toEqual(["PAGE_A", "PAGE_B"]);
    expect(new Set(ours).size).toBe(5);
    expect(ours).toHaveLength(5); // none twice across pages
    const bad = await op("GET", "/v1/admin/failure-groups?cursor=2090-01-01");
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("INVALID_REQUEST");
  });
});
