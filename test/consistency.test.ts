import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { applyBatch } from "../core/apply-batch";
import { canonicalRow } from "../schemas/canonical-row";
import { entityByName } from "../schemas/registry";
import { backfillStep, getBackfill } from "../src/services/backfill";
import { entityStores } from "../src/services/entity-stores";
import { reconcileEntity } from "../src/services/reconcile";
import { d1Repairer } from "../core/stores/store-pages";
import { d1Replica } from "../core/stores/d1-replica";
import { postgresRpc } from "../core/stores/supabase-postgres";
import { supabaseReplica } from "../core/stores/supabase-replica";
import { emailRow, upsertEvent } from "./support/fixtures";
import { call, d1Row, pg, pgRow, SECRETS } from "./support/helpers";

// Each test works in its own slice of the key space, so the suites running in parallel on the
// same Postgres never meet its rows.
const range = (prefix: string) => ({
  after: `${prefix}-0000-0000-0000-000000000000`,
  until: `${prefix}-ffff-ffff-ffff-ffffffffffff`,
});
const idIn = (prefix: string, n: number) => `${prefix}-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
const rpc = () => postgresRpc(pg());
const deps = (entity: string) => ({ ...entityStores(entityByName(entity)!, env.DB, rpc()), db: env.DB });
const reconcile = (entity: string, prefix: string, repair = true) =>
  reconcileEntity(deps(entity), entityByName(entity)!, { repair, ...range(prefix), graceSeconds: 0 });

describe("reconciliation: out-of-band writes to a replica are detected and undone", () => {
  it("D1 replica: deleted, altered and added rows are repaired to match Supabase exactly; a version-bumped row is reported as regressed, not rolled back", async () => {
    const prefix = "fedcba01";
    for (let i = 1; i <= 30; i++)
      await pg()`insert into prospects (id, name, email_bounced) values (${idIn(prefix, i)}, ${`Hotel ${i}`}, ${i % 2 === 0})`;
    const rows = await Promise.all(Array.from({ length: 30 }, (_, i) => pgRow("prospects", idIn(prefix, i + 1))));
    await applyBatch(
      d1Replica(env.DB),
      rows.map((r) => upsertEvent("prospects", r)),
    );
    expect((await reconcile("prospects", prefix)).pages_differing).toBe(0);

    // Someone writes to the replica directly.
    await env.DB.batch([
      env.DB.prepare("DELETE FROM prospects WHERE id IN (?1, ?2, ?3)").bind(
        idIn(prefix, 1),
        idIn(prefix, 2),
        idIn(prefix, 3),
      ),
      env.DB.prepare("UPDATE prospects SET name = 'Tampered' WHERE id IN (?1, ?2, ?3)").bind(
        idIn(prefix, 4),
        idIn(prefix, 5),
        idIn(prefix, 6),
      ),
      env.DB.prepare("UPDATE prospects SET version = 99 WHERE id = ?1").bind(idIn(prefix, 7)),
      env.DB.prepare(
        `INSERT INTO prospects SELECT ?1, 'Intruder', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'new', NULL, 0, NULL, 0, 0,
           '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z', 1`,
      ).bind(idIn(prefix, 900)),
    ]);

    const found = await reconcile("prospects", prefix);
    expect(found).toMatchObject({
      status: "complete",
      missing: 3,
      altered: 3,
      extra: 1,
      regressed: 1,
      repaired: 7,
      skipped: 0,
    });
    expect(found.examples.extra).toEqual([idIn(prefix, 900)]);
    // A replica row above the source's version is never written down to it (that is what a
    // point-in-time restore of the source looks like): it is reported for an operator.
    expect(found.problems).toEqual([
      expect.objectContaining({
        id: idIn(prefix, 7),
        kind: "regressed",
        code: "VERSION_REGRESSION",
        source_version: 1,
        replica_version: 99,
        replica_state: "row",
      }),
    ]);
    expect((await d1Row("prospects", idIn(prefix, 7)))!.version).toBe(99);
    for (const r of rows.filter((r) => r.id !== idIn(prefix, 7))) {
      expect(canonicalRow("prospects", (await d1Row("prospects", String(r.id)))!)).toEqual(
        canonicalRow("prospects", r),
      );
    }
    expect(await d1Row("prospects", idIn(prefix, 900))).toBeNull();
    expect(await reconcile("prospects", prefix)).toMatchObject({ missing: 0, altered: 0, extra: 0, regressed: 1 });

    const stored = await call("GET", "/v1/admin/reconcile?entity=prospects&limit=5", { token: SECRETS.admin });
    const record = stored.json.data.runs.find((r: { id: string }) => r.id === found.id);
    expect(record).toMatchObject({
      repaired: 7,
      regressed: 1,
      problems: [expect.objectContaining({ id: idIn(prefix, 7), kind: "regressed" })],
    });
  });

  it("Supabase replica (emails): edits in Postgres are undone from D1, the authority", async () => {
    const prefix = "fedcba02";
    const [p] = await pg()`insert into prospects (name) values ('Owner') returning id`;
    const emails = Array.from({ length: 6 }, (_, i) => emailRow({ id: idIn(prefix, i + 1), prospect_id: p!.id }));
    const cols = Object.keys(emails[0]!);
    for (const e of emails)
      await env.DB.prepare(
        `INSERT INTO emails (${cols.join(",")}) VALUES (${cols.map((_, i) => `?${i + 1}`).join(",")})`,
      )
        .bind(...cols.map((c) => e[c]))
        .run();
    await applyBatch(
      supabaseReplica(rpc()),
      emails.map((e) => upsertEvent("emails", e)),
    );

    await pg()`update emails set subject = 'Tampered' where id = ${idIn(prefix, 1)}`;
    await pg()`delete from emails where id = ${idIn(prefix, 2)}`;
    await pg()`insert into emails select (jsonb_populate_record(null::emails, to_jsonb(e) || jsonb_build_object('id', ${idIn(prefix, 77)}::text))).* from emails e where id = ${idIn(prefix, 3)}`;

    expect(await reconcile("emails", prefix)).toMatchObject({ missing: 1, altered: 1, extra: 1, repaired: 3 });
    expect((await pg()`select subject from emails where id = ${idIn(prefix, 1)}`)[0]!.subject).toBe("Hello");
    expect(await pg()`select 1 from emails where id = ${idIn(prefix, 77)}`).toHaveLength(0);
    expect(await reconcile("emails", prefix)).toMatchObject({ missing: 0, altered: 0, extra: 0 });
  });

  it("a report-only run changes nothing, and a repair never overwrites a row a live event changed meanwhile", async () => {
    const prefix = "fedcba03";
    await pg()`insert into prospects (id, name) values (${idIn(prefix, 1)}, 'Live')`;
    await applyBatch(d1Replica(env.DB), [upsertEvent("prospects", await pgRow("prospects", idIn(prefix, 1)))]);
    await env.DB.prepare("UPDATE prospects SET name = 'Tampered' WHERE id = ?1").bind(idIn(prefix, 1)).run();
    expect(await reconcile("prospects", prefix, false)).toMatchObject({ altered: 1, repaired: 0 });
    expect((await d1Row("prospects", idIn(prefix, 1)))!.name).toBe("Tampered");

    // The repair was computed against version 1, but a live event has since moved the row to 2.
    const source = canonicalRow("prospects", await pgRow("prospects", idIn(prefix, 1)));
    await env.DB.prepare("UPDATE prospects SET version = 2, name = 'Newer live value' WHERE id = ?1")
      .bind(idIn(prefix, 1))
      .run();
    expect(
      await d1Repairer(env.DB).repair("prospects", [{ op: "put", id: idIn(prefix, 1), expected: 1, row: source }]),
    ).toBe(0);
    expect((await d1Row("prospects", idIn(prefix, 1)))!.name).toBe("Newer live value");
  });
});

describe("backfill", () => {
  it("fills an empty replica with 100,000 rows, survives an interruption, and ends checksum-equal", async () => {
    const prefix = "fedcba04";
    // A table that existed before sync was installed: loaded with triggers off (no change log, so
    // only a backfill can bring these rows over; it also keeps the other suites' sweeps quiet).
    await pg().begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`insert into prospects (id, name, score, version)
               select ('fedcba04-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'Bulk ' || g, g % 100, 1
                 from generate_series(1, 100000) g`;
    });
    const entity = entityByName("prospects")!;
    const stores = entityStores(entity, env.DB, rpc());
    const step = (restart = false) =>
      backfillStep({ source: stores.source, target: stores.target, db: env.DB }, entity, {
        maxRows: 30_000,
        pageSize: 2000,
        restart,
      });

    const first = await step(true);
    expect(first).toMatchObject({ status: "running" });
    expect(first.copied).toBeGreaterThanOrEqual(30_000);
    // "Interruption": the worker that ran the first step is gone; a new call resumes from the stored cursor.
    const resumed = await getBackfill(env.DB, "prospects");
    expect(resumed!.cursor).toBe(first.cursor);
    let state = first;
    while (state.status !== "complete") state = await step();
    expect(state.copied).toBeGreaterThanOrEqual(100_000);

    // Checksum-equal: reconciliation (bounded at 50,000 rows per run, so it resumes) finds no difference.
    let checked = 0;
    let after: string | null = range(prefix).after;
    for (;;) {
      const run = await reconcileEntity(deps("prospects"), entity, {
        repair: false,
        after,
        until: range(prefix).until,
        graceSeconds: 0,
      });
      expect(run, JSON.stringify(run)).toMatchObject({ missing: 0, altered: 0, extra: 0, pages_differing: 0 });
      checked += run.rows_checked;
      if (run.status !== "partial") break;
      after = run.resume_after;
    }
    expect(checked).toBe(100_000);
  }, 240_000);
});

describe("integrity checks and sync status", () => {
  it("finds orphaned emails, duplicates, non-UTC timestamps and non-UUID ids, with examples, and keeps history", async () => {
    const orphan = emailRow({ prospect_id: crypto.randomUUID() });
    const cols = Object.keys(orphan);
    await env.DB.prepare(`INSERT INTO emails (${cols.join(",")}) VALUES (${cols.map((_, i) => `?${i + 1}`).join(",")})`)
      .bind(...cols.map((c) => orphan[c]))
      .run();
    await env.DB.prepare(
      `INSERT INTO mailboxes (id, email, display_name, provider, status, daily_limit, health_score, created_at, updated_at, version)
       VALUES ('not-a-uuid', 'x@y.test', NULL, 'smtp', 'active', 1, 1, '2025-01-01 10:00:00', '0000-01-01T10:00:00.000Z', 1)`,
    ).run();
    const res = await call("POST", "/v1/admin/integrity", { token: SECRETS.admin });
    expect(res.status).toBe(200);
    const findings = res.json.data.run.findings as Array<{
      check: string;
      store: string;
      entity?: string;
      column?: string;
      count: number;
      examples: unknown[];
    }>;
    const find = (check: string, entity?: string, column?: string) =>
      findings.find((f) => f.check === check && (!entity || f.entity === entity) && (!column || f.column === column));
    expect(find("orphaned_emails", "emails")).toMatchObject({ store: "d1", count: 1, examples: [orphan.id] });
    expect(find("ids_not_uuid", "mailboxes")).toMatchObject({ count: 1, examples: ["not-a-uuid"] });
    expect(find("timestamps_not_utc", "mailboxes", "created_at")).toMatchObject({ count: 1 });
    // Year 0000 keeps its shape through strftime but lies outside the timestamp rule.
    expect(find("timestamps_not_utc", "mailboxes", "updated_at")).toMatchObject({ count: 1 });
    expect(find("duplicate_prospects")).toBeDefined();
    expect(findings.some((f) => f.store === "supabase" && f.check === "duplicate_prospects")).toBe(true);
    const history = await call("GET", "/v1/admin/integrity?limit=1", { token: SECRETS.admin });
    expect(history.json.data.runs[0].id).toBe(res.json.data.run.id);
  });

  it("GET /v1/sync/status says per entity whether it is in sync and why not", async () => {
    const unauthorized = await call("GET", "/v1/sync/status");
    expect(unauthorized.status).toBe(401);
    await env.DB.prepare(
      `INSERT INTO failed_tasks (id, queue, event_id, entity, event, error_code, error_message, retryable, attempts, last_message_id, first_failed_at, last_failed_at)
       VALUES ('01J00000000000000000000000', 'to-d1', 'e1', 'campaigns', '{}', 'SCHEMA_VIOLATION', 'bad', 0, 1, 'm1', '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z')`,
    ).run();
    const res = await call("GET", "/v1/sync/status", { token: SECRETS.admin });
    expect(res.status).toBe(200);
    const status = res.json.data;
    expect(status.entities.map((e: { entity: string }) => e.entity)).toEqual([
      "prospects",
      "campaigns",
      "mailboxes",
      "inbox_items",
      "emails",
      "contacts",
    ]);
    // Owned by HubSpot, held in Supabase alone: no D1 count, no backlog of ours.
    const contacts = status.entities.find((e: { entity: string }) => e.entity === "contacts");
    expect(contacts).toMatchObject({
      authority: "hubspot",
      replica: "supabase",
      rows: { d1: null },
      backlog: { external: "hubspot" },
    });
    expect(typeof contacts.rows.supabase).toBe("number");
    const campaigns = status.entities.find((e: { entity: string }) => e.entity === "campaigns");
    expect(campaigns).toMatchObject({ authority: "supabase", replica: "d1", openFailedTasks: 1, healthy: false });
    expect(campaigns.reasons.join(" ")).toMatch(/1 open failed task/);
    expect(typeof campaigns.rows.supabase).toBe("number");
    expect(status.healthy).toBe(false);
    expect(status.reasons.join(" ")).toMatch(/campaigns: 1 open failed task/);
    expect(status.circuits).toEqual({ d1: "closed", supabase: "closed" });
  });

  it("/v1/admin/health also reports the circuits and the last sweep", async () => {
    const res = await call("GET", "/v1/admin/health", { token: SECRETS.admin });
    expect(res.json.data.circuits).toEqual({ d1: "closed", supabase: "closed" });
    expect(res.json.data).toHaveProperty("lastSweep");
  });
});
