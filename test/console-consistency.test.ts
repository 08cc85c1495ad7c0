import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { applyBatch } from "../core/apply-batch";
import { d1Replica } from "../core/stores/d1-replica";
import { auditEntrySchema, createdOperatorTokenSchema } from "../schemas/operator-api";
import { upsertEvent } from "./support/fixtures";
import { d1Row, envWithSupabaseExhausted, pg, pgRow } from "./support/helpers";
import { ACCESS, accessKeySet, signAccessJwt } from "./support/access";
import { get, post, sendWith, sessionCookie, signIn } from "./support/console";
import { op } from "./support/operator";

/*
 * /console/consistency runs the admin API's own consistency services. Reconciliation works in its
 * own slice of the key space (the form's id range, as the API's after/until), so the suites running
 * in parallel on the same Postgres never meet its rows. Rows changed within RECONCILE_GRACE_SECONDS
 * (300 s) are left to the pipeline, so a repair of rows made a moment ago runs with the setting at 0.
 */
const range = (prefix: string) => ({
  after: `${prefix}-0000-0000-0000-000000000000`,
  until: `${prefix}-ffff-ffff-ffff-ffffffffffff`,
});
const idIn = (prefix: string, n: number) => `${prefix}-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
const NO_GRACE = { RECONCILE_GRACE_SECONDS: "0" };

/** Three prospects in Postgres and D1; then one is deleted from D1 and one edited there (same version). */
async function diverged(prefix: string) {
  const ids = [1, 2, 3].map((n) => idIn(prefix, n));
  for (const id of ids) await pg()`insert into prospects (id, name) values (${id}, ${`Hotel ${id.slice(-4)}`})`;
  const rows = await Promise.all(ids.map((id) => pgRow("prospects", id)));
  await applyBatch(
    d1Replica(env.DB),
    rows.map((r) => upsertEvent("prospects", r)),
  );
  await env.DB.prepare("DELETE FROM prospects WHERE id = ?1").bind(ids[0]).run();
  await env.DB.prepare("UPDATE prospects SET name = 'edited in D1' WHERE id = ?1").bind(ids[1]).run();
  return { deleted: ids[0]!, altered: ids[1]! };
}

async function counts() {
  const runs = await env.DB.prepare("SELECT count(*) AS n FROM sync_reconcile_runs").first<{ n: number }>();
  const audit = await env.DB.prepare("SELECT count(*) AS n FROM operator_audit").first<{ n: number }>();
  const backfills = await env.DB.prepare("SELECT count(*) AS n FROM sync_backfills").first<{ n: number }>();
  return { runs: runs!.n, audit: audit!.n, backfills: backfills!.n };
}

async function auditOf(actor: string) {
  const res = await op("GET", `/v1/admin/audit?actor=${encodeURIComponent(actor)}`);
  return (res.json.data.items as unknown[]).map((e) => auditEntrySchema.parse(e));
}

describe("console consistency: session and CSRF", () => {
  it("the page, its actions and its progress fragment need a session; a POST needs the session's CSRF token", async () => {
    const before = await counts();
    for (const res of [
      await get("/console/consistency"),
      await get("/console/consistency/backfill/prospects/progress"),
      await post("/console/consistency/reconcile", { mode: "dry-run", entity: "prospects" }),
      await post("/console/consistency/integrity", {}),
    ]) {
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe("/console/login");
    }
    const { cookie, csrf } = await signIn();
    for (const form of [{}, { csrf: "wrong" }] as Record<string, string>[])
      for (const action of ["reconcile", "integrity", "backfill"]) {
        const res = await post(
          `/console/consistency/${action}`,
          { ...form, entity: "prospects", mode: "repair" },
          { cookie },
        );
        expect(res.status).toBe(403);
        expect(await res.text()).toContain("Nothing was changed");
      }
    const cross = await post(
      "/console/consistency/reconcile",
      { csrf, mode: "dry-run" },
      { cookie, origin: "https://evil.example" },
    );
    expect(cross.status).toBe(403);
    expect(await counts()).toEqual(before);
    const page = await get("/console/consistency", cookie);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('aria-current="page">Consistency</a>');
    for (const id of ["reconcile-entity", "reconcile-reason", "backfill-entity", "backfill-reason"])
      expect(html).toContain(`<label for="${id}">`);
  });
});

describe("console consistency: reconciliation", () => {
  it("a repair from the page really repairs, shows the differences with their ids, and is audited with the operator", async () => {
    const prefix = "c0c0a001";
    const { deleted, altered } = await diverged(prefix);
    const { cookie, csrf } = await signIn("olga@ops");
    const res = await sendWith(NO_GRACE, "/console/consistency/reconcile", {
      form: { csrf, entity: "prospects", mode: "repair", reason: "console repair test", ...range(prefix) },
      headers: { cookie },
    });
    expect(res.status).toBe(303);
    const location = res.headers.get("location")!;
    expect(location).toMatch(/^\/console\/consistency\?runs=[0-9A-Z]{26}#reconcile$/);

    expect(await d1Row("prospects", deleted)).toMatchObject({ id: deleted, version: 1 });
    expect(await d1Row("prospects", altered)).toMatchObject({ name: (await pgRow("prospects", altered)).name });

    const page = await (await get(location, cookie)).text();
    expect(page).toContain("Missing in the replica: 1");
    expect(page).toContain(`<code>${deleted}</code>`);
    expect(page).toContain("Altered in the replica: 1");
    expect(page).toContain(`<code>${altered}</code>`);
    expect(page).toContain("2 difference(s), 2 repaired");

    const runId = /runs=([0-9A-Z]{26})/.exec(location)![1];
    expect(await auditOf("olga@ops")).toEqual([
      expect.objectContaining({
        action: "reconcile",
        actor: "olga@ops",
        auth: "admin-token",
        reason: "console repair test",
        target_type: "entity",
        target_id: "prospects",
        selection: expect.objectContaining({ repair: true, after: range(prefix).after, until: range(prefix).until }),
        result: expect.objectContaining({ run: runId, repaired: 2 }),
      }),
    ]);

    // Exactly what the API's report-only run now sees: nothing left to repair in that slice.
    const dry = await op("POST", "/v1/admin/reconcile", { entity: "prospects", repair: false, ...range(prefix) });
    expect(dry.json.data.runs[0]).toMatchObject({ missing: 0, altered: 0, extra: 0 });
  });

  it("an action is audited with how its operator signed in: an operator token (its id) or Cloudflare Access, both proven", async () => {
    const prefix = "c0c0a006";
    const created = await op("POST", "/v1/admin/operator-tokens", { operator: "yuri", reason: "console audit test" });
    const { secret, token } = createdOperatorTokenSchema.parse(created.json.data);
    const byToken = sessionCookie(await post("/console/login", { token: secret }));
    const tokenCsrf = /name="csrf" value="([^"]+)"/.exec(await (await get("/console", byToken)).text())![1]!;
    const repaired = await sendWith(NO_GRACE, "/console/consistency/reconcile", {
      form: { csrf: tokenCsrf, entity: "prospects", mode: "repair", ...range(prefix) },
      headers: { cookie: byToken },
    });
    expect(repaired.status).toBe(303);
    expect(await auditOf("yuri")).toEqual([
      expect.objectContaining({ action: "reconcile", auth: "operator-token", token_id: token.id }),
    ]);

    const { signer, jwks } = await accessKeySet();
    const jwt = await signAccessJwt(signer.privateKey, { email: "zoe@example.com" });
    const access = { ...ACCESS, ...NO_GRACE };
    const signedIn = await sendWith(access, "/console/login", {
      form: { via: "access" },
      headers: { "cf-access-jwt-assertion": jwt },
      jwks,
    });
    const byAccess = sessionCookie(signedIn);
    const headers = { cookie: byAccess, "cf-access-jwt-assertion": jwt };
    const page = await (await sendWith(access, "/console/consistency", { headers, jwks })).text();
    const accessCsrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!;
    const res = await sendWith(access, "/console/consistency/reconcile", {
      form: { csrf: accessCsrf, entity: "prospects", mode: "repair", ...range(prefix) },
      headers,
      jwks,
    });
    expect(res.status).toBe(303);
    expect(await auditOf("zoe@example.com")).toEqual([
      expect.objectContaining({ action: "reconcile", actor: "zoe@example.com", auth: "access-jwt", token_id: null }),
    ]);
  });

  it("a dry run reports the differences, changes nothing and writes no audit line", async () => {
    const prefix = "c0c0a002";
    const { deleted } = await diverged(prefix);
    const { cookie, csrf } = await signIn("pavel@ops");
    const res = await sendWith(NO_GRACE, "/console/consistency/reconcile", {
      form: { csrf, entity: "prospects", mode: "dry-run", ...range(prefix) },
      headers: { cookie },
    });
    expect(res.status).toBe(303);
    const page = await (await get(res.headers.get("location")!, cookie)).text();
    expect(page).toContain("dry run (nothing changed)");
    expect(page).toContain(`<code>${deleted}</code>`);
    expect(await d1Row("prospects", deleted)).toBeNull();
    expect(await auditOf("pavel@ops")).toEqual([]);
  });

  it("refuses bad input with its code in an alert, keeps what was typed, and changes nothing", async () => {
    const prefix = "c0c0a003";
    const { deleted } = await diverged(prefix);
    const { cookie, csrf } = await signIn("quinn@ops");
    const before = await counts();
    const cases: Array<[string, Record<string, string>, number, string]> = [
      ["reconcile", { mode: "bogus", entity: "prospects" }, 400, "INVALID_REQUEST"],
      ["reconcile", { mode: "repair", entity: "nope" }, 404, "NOT_FOUND"],
      ["reconcile", { mode: "repair", entity: "prospects", after: "not-a-uuid" }, 400, "INVALID_REQUEST"],
      ["reconcile", { mode: "repair", entity: "prospects", reason: "x", ...range(prefix) }, 400, "INVALID_REQUEST"],
      ["backfill", { entity: "nope" }, 404, "NOT_FOUND"],
      ["backfill", { entity: "prospects", reason: "x" }, 400, "INVALID_REQUEST"],
      ["backfill", { entity: "prospects", restart: "maybe" }, 400, "INVALID_REQUEST"],
    ];
    for (const [action, form, status, code] of cases) {
      const res = await sendWith(NO_GRACE, `/console/consistency/${action}`, {
        form: { csrf, ...form },
        headers: { cookie },
      });
      const html = await res.text();
      expect(res.status, `${action} ${JSON.stringify(form)}`).toBe(status);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      expect(html).toContain(`<p class="error" role="alert">Refused (${code}): `);
      expect(html).toContain("Nothing was changed.");
      expect(html).not.toContain('"success"');
    }
    // What was typed stays in the form.
    const typed = await (
      await sendWith(NO_GRACE, "/console/consistency/reconcile", {
        form: { csrf, mode: "repair", entity: "prospects", reason: "x" },
        headers: { cookie },
      })
    ).text();
    expect(typed).toContain('<option value="prospects" selected="">prospects</option>');
    expect(typed).toContain('value="repair" checked=""');
    expect(await counts()).toEqual(before);
    expect(await d1Row("prospects", deleted)).toBeNull();
    expect(await auditOf("quinn@ops")).toEqual([]);
  });

  it("an unknown or malformed run id in the page's address is refused in an alert, not an error page", async () => {
    const { cookie } = await signIn();
    const res = await get("/console/consistency?runs=not-a-run", cookie);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('role="alert">Cannot show this (INVALID_REQUEST): ');
  });
});

describe("console consistency: Supabase down", () => {
  it("a backfill answers 503 with SUPABASE_UNAVAILABLE in an alert; a reconcile records its failed run and says why", async () => {
    const down = { HYPERDRIVE: envWithSupabaseExhausted().HYPERDRIVE };
    const { cookie, csrf } = await signIn("xena@ops");
    const backfill = await sendWith(down, "/console/consistency/backfill", {
      form: { csrf, entity: "campaigns" },
      headers: { cookie },
    });
    expect(backfill.status).toBe(503);
    const html = await backfill.text();
    expect(html).toContain('<p class="error" role="alert">Not done (SUPABASE_UNAVAILABLE): ');
    expect(html).toContain("Try again when it is back");
    expect(await auditOf("xena@ops")).toEqual([]);

    const prefix = "c0c0a005";
    const res = await sendWith(down, "/console/consistency/reconcile", {
      form: { csrf, entity: "prospects", mode: "repair", ...range(prefix) },
      headers: { cookie },
    });
    expect(res.status).toBe(303);
    const page = await (await get(res.headers.get("location")!, cookie)).text();
    expect(page).toContain('<span class="badge state-error">failed</span>');
    expect(page).toMatch(/role="alert">The run stopped: [^<]+ \(the next run resumes there\)/);
  });
});

describe("console consistency: integrity and backfill", () => {
  it("runs the integrity checks and shows the run", async () => {
    const { cookie, csrf } = await signIn();
    const res = await post("/console/consistency/integrity", { csrf }, { cookie });
    expect(res.status).toBe(303);
    const location = res.headers.get("location")!;
    const id = /integrity=([0-9A-Z]{26})/.exec(location)![1]!;
    const stored = await env.DB.prepare("SELECT issues FROM sync_integrity_runs WHERE id = ?1").bind(id).first<{
      issues: number;
    }>();
    expect(stored).not.toBeNull();
    const page = await (await get(location, cookie)).text();
    expect(page).toContain(stored!.issues ? `${stored!.issues} issue(s)` : "no issues");
  });

  it("a backfill step from the page is audited with the operator and its progress is a live fragment", async () => {
    const prefix = "c0c0a004";
    const id = idIn(prefix, 1);
    await pg()`insert into campaigns (id, name) values (${id}, 'Spring campaign')`;
    const { cookie, csrf } = await signIn("rita@ops");
    const res = await post(
      "/console/consistency/backfill",
      { csrf, entity: "campaigns", restart: "on", reason: "console backfill test" },
      { cookie },
    );
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/console/consistency#backfill");
    expect(await d1Row("campaigns", id)).toMatchObject({ id, name: "Spring campaign" });
    const [line] = await auditOf("rita@ops");
    expect(line).toMatchObject({
      action: "backfill",
      target_id: "campaigns",
      reason: "console backfill test",
      selection: { restart: true, maxRows: null },
    });

    const page = await (await get("/console/consistency", cookie)).text();
    expect(page).toContain('<li data-live="/console/consistency/backfill/campaigns/progress" data-live-seconds="3">');
    const fragment = await get("/console/consistency/backfill/campaigns/progress", cookie);
    expect(fragment.status).toBe(200);
    const html = await fragment.text();
    expect(html).not.toContain("<html");
    expect(html).toMatch(/campaigns: (complete|running \(resume to go on\)) · \d+ row\(s\) copied/);
    expect(html).toMatch(/<progress id="backfill-campaigns-bar" max="\d+" value="\d+">/);
    const unknown = await get("/console/consistency/backfill/nope/progress", cookie);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('role="alert">Cannot show this (NOT_FOUND): ');
  });
});

describe("console consistency: version regressions", () => {
  it("lists what reconciliation found and re-stamps it at the source on the operator's word, audited", async () => {
    const prefix = "c0c0a00e";
    const id = idIn(prefix, 1);
    await pg()`insert into prospects (id, name) values (${id}, 'Restored')`;
    await applyBatch(d1Replica(env.DB), [upsertEvent("prospects", await pgRow("prospects", id))]);
    // The replica saw a later version than the source now holds (as after a point-in-time restore).
    await env.DB.prepare("UPDATE prospects SET version = 5 WHERE id = ?1").bind(id).run();
    const { cookie, csrf } = await signIn("rita@ops");
    const dryRun = await sendWith(NO_GRACE, "/console/consistency/reconcile", {
      form: { csrf, entity: "prospects", mode: "dry-run", ...range(prefix) },
      headers: { cookie },
    });
    expect(dryRun.status).toBe(303);

    const page = await (await get("/console/consistency", cookie)).text();
    const row = page.slice(page.indexOf(`<code>${id}</code>`));
    expect(row.slice(0, row.indexOf("</tr>"))).toMatch(/>1<\/td>.*>5 \(row\)<\/td>/s);
    expect(page).toContain('<option value="prospects">prospects</option>');

    // A reason is required, as in the API; nothing is re-stamped without one.
    const noReason = await post("/console/consistency/regressions/resolve", { csrf, entity: "prospects" }, { cookie });
    expect(noReason.status).toBe(400);
    expect(await noReason.text()).toContain("Refused (INVALID_REQUEST): reason: ");
    expect((await pgRow("prospects", id)).version).toBe(1);

    const done = await post(
      "/console/consistency/regressions/resolve",
      { csrf, entity: "prospects", reason: "restored to 09:00" },
      { cookie },
    );
    expect(done.status).toBe(303);
    const location = done.headers.get("location")!;
    expect(location).toMatch(/^\/console\/consistency\?restamped=prospects:\d+:\d+#regressions$/);
    expect(Number((await pgRow("prospects", id)).version)).toBeGreaterThan(5);
    const after = await (await get(location.split("#")[0]!, cookie)).text();
    expect(after).toMatch(/prospects: \d+ row\(s\) re-stamped at the source/);
    expect(after).not.toContain(`<code>${id}</code>`);
    expect((await auditOf("rita@ops")).map((a) => a.action)).toContain("resolve-regression");
  });
});
