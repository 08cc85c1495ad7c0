import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createdOperatorTokenSchema } from "../schemas/operator-api";
import { get, post, signIn } from "./support/console";
import { op, prospectEvent, seedFailures, taskOfEvent } from "./support/operator";
import { waitFor } from "./support/helpers";

/** Seeds `n` failed prospects events under one error code (one failure group) and returns its id. */
async function seedGroup(code: string, n: number, overrides: Record<string, unknown> = {}) {
  await seedFailures(
    Array.from({ length: n }, () => prospectEvent(undefined, 1, overrides)),
    { error_code: code, error_message: `stage: invalid value <b>${code}</b>` },
  );
  const row = await env.DB.prepare("SELECT id FROM failure_groups WHERE error_code = ?1")
    .bind(code)
    .first<{ id: string }>();
  return row!.id;
}

const groupRow = (id: string) =>
  env.DB.prepare("SELECT status, status_changed_by, status_reason FROM failure_groups WHERE id = ?1")
    .bind(id)
    .first<{ status: string; status_changed_by: string | null; status_reason: string | null }>();

const auditOf = async (targetId: string) =>
  (
    await env.DB.prepare(
      "SELECT actor, action, auth, token_id, reason, target_type, selection, result FROM operator_audit WHERE target_id = ?1 ORDER BY id",
    )
      .bind(targetId)
      .all<Record<string, unknown>>()
  ).results;

/** The actions the page offers, from its buttons. */
const offered = (html: string) => [...html.matchAll(/name="action" value="([a-z]+)"/g)].map((m) => m[1]);

describe("console failures: pages need a session and refuse forged posts", () => {
  it("redirects every failures and replays page to the sign-in without a session", async () => {
    const id = await seedGroup("CF_NO_SESSION", 1);
    for (const path of [
      "/console/failures",
      `/console/failures/groups/${id}`,
      `/console/failures/groups/${id}/live`,
      "/console/failures/live/groups",
      "/console/replays",
      "/console/replays/new",
      "/console/replays/live/jobs",
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(303);
      expect(res.headers.get("location"), path).toBe("/console/login");
    }
    const res = await post(`/console/failures/groups/${id}/status`, { action: "resolve", reason: "no session" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/console/login");
    expect((await groupRow(id))!.status).toBe("open");
  });

  it("refuses a status change without the CSRF token, with a wrong one or from another site: nothing changes", async () => {
    const id = await seedGroup("CF_CSRF", 1);
    const { cookie, csrf } = await signIn();
    const form = { action: "acknowledge", reason: "looking into it" };
    const path = `/console/failures/groups/${id}/status`;
    for (const res of [
      await post(path, form, { cookie }),
      await post(path, { ...form, csrf: "wrong" }, { cookie }),
      await post(path, { ...form, csrf }, { cookie, origin: "https://evil.example" }),
      await post(path, { ...form, csrf }, { cookie, "sec-fetch-site": "cross-site" }),
    ]) {
      expect(res.status).toBe(403);
      expect(await res.text()).toContain("Nothing was changed");
    }
    expect(await groupRow(id)).toEqual({ status: "open", status_changed_by: null, status_reason: null });
    expect(await auditOf(id)).toEqual([]);
    // The same form with the token goes through: the refusals above were for the token alone.
    expect((await post(path, { ...form, csrf }, { cookie })).status).toBe(303);
  });
});

describe("console failures: the ledger as it is", () => {
  it("lists groups with their counts, filtered by status and entity, and escapes what failures carry", async () => {
    const id = await seedGroup("CF_LIST", 3);
    const { cookie } = await signIn();
    const page = await (await get("/console/failures?entity=prospects&status=open", cookie)).text();
    const row = page.slice(page.indexOf(`/console/failures/groups/${id}`));
    expect(row.slice(0, row.indexOf("</tr>"))).toMatch(
      /CF_LIST<\/a>.*>open<\/span>.*prospects.*to-d1.*stage: invalid value &lt;b&gt;CF_LIST&lt;\/b&gt;.*>3<\/td>.*>3 \/ 3<\/td>/s,
    );
    expect(page).not.toContain("<b>CF_LIST</b>");
    // The table body polls a fragment with the same filter.
    expect(page).toContain('data-live="/console/failures/live/groups?status=open&amp;entity=prospects"');
    const fragment = await (await get("/console/failures/live/groups?status=open&entity=prospects", cookie)).text();
    expect(fragment).toContain(`/console/failures/groups/${id}`);
    expect(fragment).not.toContain("<html");

    // Filters select: another entity, another status.
    expect(await (await get("/console/failures?entity=emails", cookie)).text()).not.toContain(id);
    expect(await (await get("/console/failures?status=resolved", cookie)).text()).not.toContain(id);

    // A filter value the API refuses is refused here too, with its code.
    const bad = await get("/console/failures?status=bogus", cookie);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/role="alert">Cannot show this \(INVALID_REQUEST\): status: /);
  });

  it("drills into a group's tasks page by page, and a task's event, pretty-printed and escaped, with its history", async () => {
    const id = await seedGroup("CF_DRILL", 30, { name: `<img src=x onerror="alert(1)"> & Co` });
    const { cookie } = await signIn();
    const first = await (await get(`/console/failures/groups/${id}`, cookie)).text();
    const taskLinks = (html: string) =>
      [...html.matchAll(/href="\/console\/failures\/tasks\/([0-9A-Z]{26})"/g)].map((m) => m[1]!);
    const page1 = taskLinks(first);
    expect(page1).toHaveLength(25);
    const older = /href="(\/console\/failures\/groups\/[0-9a-f]+\?cursor=[0-9A-Z]{26})"/.exec(first)?.[1];
    expect(older).toBeTruthy();
    const page2 = taskLinks(await (await get(older!, cookie)).text());
    expect(page2).toHaveLength(5);
    const all = new Set([...page1, ...page2]);
    const inDb = await env.DB.prepare("SELECT id FROM failed_tasks WHERE group_id = ?1").bind(id).all<{ id: string }>();
    expect([...all].sort()).toEqual(inDb.results.map((r) => r.id).sort());

    const badCursor = await get(`/console/failures/groups/${id}?cursor=not-a-ulid`, cookie);
    expect(badCursor.status).toBe(400);
    expect(await badCursor.text()).toContain("Cannot show this (INVALID_REQUEST): cursor: must be a ULID");

    const task = await (await get(`/console/failures/tasks/${page1[0]}`, cookie)).text();
    expect(task).not.toContain("<img src=x");
    expect(task).toContain("&quot;name&quot;: &quot;&lt;img src=x onerror=\\&quot;alert(1)\\&quot;&gt; &amp; Co&quot;");
    // Pretty-printed: one field per line, indented.
    expect(task).toMatch(/\n {4}&quot;stage&quot;: &quot;new&quot;,\n/);
    expect(task).toMatch(/<td data-label="What">failure<\/td>.*CF_DRILL/s);

    const missing = await get("/console/failures/tasks/01ARZ3NDEKTSV4RRFFQ69G5FAV", cookie);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain("(NOT_FOUND): failed task 01ARZ3NDEKTSV4RRFFQ69G5FAV does not exist");
  });
});

describe("console failures: paging the groups", () => {
  it("past 50 groups the list links the older page, which carries the filter and shows the rest", async () => {
    for (let i = 0; i < 51; i++)
      await seedFailures([prospectEvent()], { queue: "to-supabase", error_code: `CF_PAGE_${i}` });
    const { cookie } = await signIn();
    const first = await (await get("/console/failures?entity=prospects", cookie)).text();
    const older = first.match(/href="(\/console\/failures\?entity=prospects&amp;cursor=[^"]+)">Older groups →/);
    expect(older, "an older-page link").not.toBeNull();
    const second = await (await get(older![1]!.replaceAll("&amp;", "&"), cookie)).text();
    expect(second).toContain('href="/console/failures?entity=prospects">Newest groups</a>');
    const codes = (html: string) => [...html.matchAll(/>(CF_PAGE_\d+)<\/a>/g)].map((m) => m[1]);
    const both = [...codes(first), ...codes(second)];
    expect(new Set(both).size).toBe(both.length); // no group on both pages
    expect(codes(second).length).toBeGreaterThan(0);
    // The second page's live fragment polls that page, not the first.
    expect(second).toMatch(/data-live="\/console\/failures\/live\/groups\?entity=prospects&amp;cursor=/);
  });
});

describe("console failures: status moves", () => {
  it("acknowledges exactly as the API does (same state, same audit line with the operator), offering only allowed moves", async () => {
    const viaPage = await seedGroup("CF_MOVE_PAGE", 2);
    const viaApi = await seedGroup("CF_MOVE_API", 2);
    const { cookie, csrf } = await signIn("alice@ops");
    expect(offered(await (await get(`/console/failures/groups/${viaPage}`, cookie)).text())).toEqual([
      "acknowledge",
      "ignore",
      "resolve",
    ]);

    const res = await post(
      `/console/failures/groups/${viaPage}/status`,
      { csrf, action: "acknowledge", reason: "on it" },
      { cookie },
    );
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`/console/failures/groups/${viaPage}?changed=acknowledged`);
    const api = await op("POST", `/v1/admin/failure-groups/${viaApi}/acknowledge`, { reason: "on it" }, "alice@ops");
    expect(api.status).toBe(200);

    expect(await groupRow(viaPage)).toEqual({
      status: "acknowledged",
      status_changed_by: "alice@ops",
      status_reason: "on it",
    });
    expect(await groupRow(viaPage)).toEqual(await groupRow(viaApi));
    const [pageLine] = await auditOf(viaPage);
    const [apiLine] = await auditOf(viaApi);
    expect(pageLine).toMatchObject({
      actor: "alice@ops",
      action: "acknowledge",
      auth: "admin-token",
      token_id: null,
      reason: "on it",
      target_type: "group",
    });
    // The two groups differ only in their signature (error code and message).
    const withoutCode = (line: Record<string, unknown>) => ({
      ...line,
      selection: { ...JSON.parse(String(line.selection)), error_code: "-", message_pattern: "-" },
    });
    expect(withoutCode(pageLine!)).toEqual(withoutCode(apiLine!));

    const after = await (await get(`/console/failures/groups/${viaPage}?changed=acknowledged`, cookie)).text();
    expect(after).toContain('role="status">The group is now acknowledged.');
    expect(offered(after)).toEqual(["ignore", "resolve", "reopen"]);
  });

  it("refuses a missing reason and a move to where the group already is, with the code, and changes nothing", async () => {
    const id = await seedGroup("CF_REFUSE", 1);
    const { cookie, csrf } = await signIn();
    const path = `/console/failures/groups/${id}/status`;

    for (const reason of ["", "  ", "x"]) {
      const res = await post(path, { csrf, action: "resolve", reason }, { cookie });
      expect(res.status).toBe(400);
      const html = await res.text();
      expect(html).toContain(
        'role="alert">Refused (INVALID_REQUEST): reason: say why (at least 3 characters). Nothing was changed.',
      );
      expect(html).toContain('name="action" value="resolve"'); // the page again, ready to retry
    }
    expect(await groupRow(id)).toEqual({ status: "open", status_changed_by: null, status_reason: null });

    const res = await post(path, { csrf, action: "reopen", reason: "it is open already" }, { cookie });
    expect(res.status).toBe(409);
    const html = await res.text();
    expect(html).toContain(`Refused (NO_CHANGE): failure group ${id} is already open. Nothing was changed.`);
    expect(html).toContain("it is open already"); // the reason stays as typed

    const unknown = await post(path, { csrf, action: "delete", reason: "not a move" }, { cookie });
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain("Refused (NOT_FOUND): no group action delete");

    const nowhere = await post(
      "/console/failures/groups/0000000000000000/status",
      { csrf, action: "resolve", reason: "gone" },
      { cookie },
    );
    expect(nowhere.status).toBe(404);
    expect(await nowhere.text()).toContain("failure group 0000000000000000 does not exist");

    expect(await groupRow(id)).toEqual({ status: "open", status_changed_by: null, status_reason: null });
    expect(await auditOf(id)).toEqual([]);
  });

  it("records an operator token's session as proven, with the token's id", async () => {
    const id = await seedGroup("CF_TOKEN", 1);
    const created = await op("POST", "/v1/admin/operator-tokens", { operator: "bob", reason: "console failures test" });
    const { secret, token } = createdOperatorTokenSchema.parse(created.json.data);
    const { cookie, csrf } = await signIn("", secret);
    const res = await post(
      `/console/failures/groups/${id}/status`,
      { csrf, action: "ignore", reason: "known noise" },
      { cookie },
    );
    expect(res.status).toBe(303);
    expect(await auditOf(id)).toEqual([
      expect.objectContaining({ actor: "bob", auth: "operator-token", token_id: token.id, action: "ignore" }),
    ]);
  });
});

describe("console failures: one task", () => {
  it("replays one task as the API does, audited with the operator; refuses it without a reason or a second time", async () => {
    const id = await seedGroup("CF_ONE_TASK", 2);
    const [viaPage, viaApi] = (
      await env.DB.prepare("SELECT id FROM failed_tasks WHERE group_id = ?1 ORDER BY id").bind(id).all<{ id: string }>()
    ).results.map((r) => r.id);
    const { cookie, csrf } = await signIn("alice@ops");
    const path = `/console/failures/tasks/${viaPage}/replay`;
    const task = (taskId: string) =>
      env.DB.prepare("SELECT status, replay_count FROM failed_tasks WHERE id = ?1")
        .bind(taskId)
        .first<{ status: string; replay_count: number }>();

    expect(await (await get(`/console/failures/tasks/${viaPage}`, cookie)).text()).toContain("Replay now");
    const noReason = await post(path, { csrf, reason: "", mode: "original" }, { cookie });
    expect(noReason.status).toBe(400);
    expect(await noReason.text()).toContain("Refused (INVALID_REQUEST): reason:");
    expect(await task(viaPage!)).toEqual({ status: "open", replay_count: 0 });
    expect(await auditOf(viaPage!)).toEqual([]);

    const res = await post(path, { csrf, reason: "row fixed", mode: "original" }, { cookie });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`/console/failures/tasks/${viaPage}?replayed=sent`);
    const api = await op("POST", `/v1/admin/failed-tasks/${viaApi}/replay`, { reason: "row fixed" }, "alice@ops");
    expect(api.status).toBe(202);
    expect((await task(viaPage!))!.replay_count).toBe(1);
    const strip = ({ selection, ...line }: Record<string, unknown>) => ({
      ...line,
      selection: { ...JSON.parse(String(selection)), row_id: "-" },
    });
    const [pageLine] = await auditOf(viaPage!);
    expect(pageLine).toMatchObject({
      actor: "alice@ops",
      action: "replay-task",
      auth: "admin-token",
      reason: "row fixed",
    });
    expect(strip(pageLine!)).toEqual(strip((await auditOf(viaApi!))[0]!));

    // Sent once: sending it again (still replaying, or already resolved) is refused, nothing sent.
    const again = await post(path, { csrf, reason: "row fixed", mode: "original" }, { cookie });
    expect(again.status).toBeGreaterThanOrEqual(400);
    expect(await again.text()).toMatch(/role="alert">Refused \((ALREADY_REPLAYING|NOT_REPLAYABLE)\)/);
    expect((await task(viaPage!))!.replay_count).toBe(1);
    expect(await auditOf(viaPage!)).toHaveLength(1);
  });
});

describe("console replay", () => {
  it("plans from a selection, refuses a replay without a reason, starts the job with reason and rate, shows live progress, cancels", async () => {
    const id = await seedGroup("CF_REPLAY", 30);
    const { cookie, csrf } = await signIn("alice@ops");

    // The "Replay…" action of a group opens the selection form with the group filled in.
    const group = await (await get(`/console/failures/groups/${id}`, cookie)).text();
    expect(group).toContain(`href="/console/replays/new?group=${id}"`);
    const form = await (await get(`/console/replays/new?group=${id}`, cookie)).text();
    expect(form).toContain(`name="group" type="text" value="${id}"`);

    const planned = await post("/console/replays/plans", { csrf, group: id, entity: "", mode: "" }, { cookie });
    expect(planned.status).toBe(303);
    const planId = /^\/console\/replays\/plans\/([0-9A-Z]{26})$/.exec(planned.headers.get("location")!)?.[1];
    expect(planId).toBeTruthy();
    const plan = await env.DB.prepare("SELECT * FROM replay_plans WHERE id = ?1")
      .bind(planId)
      .first<Record<string, unknown>>();
    expect(plan).toMatchObject({ total: 30, to_send: 30, created_by: "alice@ops", job_id: null });
    expect(await auditOf(planId!)).toEqual([
      expect.objectContaining({ actor: "alice@ops", action: "plan", auth: "admin-token", target_type: "plan" }),
    ]);
    const planPage = await (await get(`/console/replays/plans/${planId}`, cookie)).text();
    expect(planPage).toMatch(/<dt>Tasks selected<\/dt><dd>30<\/dd><dt>Would be sent<\/dt><dd>30<\/dd>/);
    expect(planPage).toContain("Replay 30 task(s)");

    // No reason: refused with the API's code, no job, the plan still unexecuted.
    for (const reason of ["", "no"]) {
      const res = await post(
        `/console/replays/plans/${planId}/execute`,
        { csrf, reason, rate_per_second: "1" },
        { cookie },
      );
      expect(res.status).toBe(400);
      expect(await res.text()).toContain(
        'role="alert">Refused (INVALID_REQUEST): reason: say why (at least 3 characters). Nothing was changed.',
      );
    }
    const badRate = await post(
      `/console/replays/plans/${planId}/execute`,
      { csrf, reason: "fixed it", rate_per_second: "5000" },
      { cookie },
    );
    expect(badRate.status).toBe(400);
    expect(await badRate.text()).toContain("rate_per_second:");
    const jobs = () =>
      env.DB.prepare("SELECT * FROM replay_jobs WHERE plan_id = ?1").bind(planId).all<Record<string, unknown>>();
    expect((await jobs()).results).toEqual([]);
    expect((await auditOf(planId!)).map((a) => a.action)).toEqual(["plan"]);

    // Confirmed: one job at the chosen rate, audited with the operator.
    const started = await post(
      `/console/replays/plans/${planId}/execute`,
      { csrf, reason: "prospects fixed", rate_per_second: "1" },
      { cookie },
    );
    expect(started.status).toBe(303);
    const jobId = /^\/console\/replays\/jobs\/([0-9A-Z]{26})$/.exec(started.headers.get("location")!)?.[1];
    expect((await jobs()).results).toEqual([
      expect.objectContaining({
        id: jobId,
        rate_per_second: 1,
        reason: "prospects fixed",
        created_by: "alice@ops",
        total: 30,
      }),
    ]);
    expect(await auditOf(jobId!)).toEqual([
      expect.objectContaining({ actor: "alice@ops", action: "replay", auth: "admin-token", reason: "prospects fixed" }),
    ]);

    // Executing the same plan twice is refused as the API refuses it.
    const again = await post(
      `/console/replays/plans/${planId}/execute`,
      { csrf, reason: "again", rate_per_second: "1" },
      { cookie },
    );
    expect(again.status).toBe(409);
    expect(await again.text()).toContain("Refused (PLAN_ALREADY_EXECUTED)");

    // The job page: its progress region polls a fragment (the live contract).
    const jobPage = await (await get(`/console/replays/jobs/${jobId}`, cookie)).text();
    expect(jobPage).toContain(`data-live="/console/replays/jobs/${jobId}/progress" data-live-seconds="2"`);
    const progress = await (await get(`/console/replays/jobs/${jobId}/progress`, cookie)).text();
    expect(progress).toMatch(/<dt>Remaining<\/dt><dd>\d+<\/dd>/);
    expect(progress).toMatch(/<dt>Failed again<\/dt><dd>0<\/dd>/);
    expect(progress).not.toContain("<html");
    expect(await (await get("/console/replays", cookie)).text()).toContain(`/console/replays/jobs/${jobId}`);

    // Cancel: a reason is required, then the job stops, audited with the operator.
    const noReason = await post(`/console/replays/jobs/${jobId}/cancel`, { csrf, reason: "" }, { cookie });
    expect(noReason.status).toBe(400);
    expect(await noReason.text()).toContain("Refused (INVALID_REQUEST): reason:");
    expect((await jobs()).results[0]!.status).toBe("running");
    const cancelled = await post(`/console/replays/jobs/${jobId}/cancel`, { csrf, reason: "wrong plan" }, { cookie });
    expect(cancelled.status).toBe(303);
    expect((await jobs()).results[0]).toMatchObject({ status: "cancelled", cancelled_by: "alice@ops" });
    expect((await auditOf(jobId!)).map((a) => [a.action, a.actor, a.reason])).toEqual([
      ["replay", "alice@ops", "prospects fixed"],
      ["cancel", "alice@ops", "wrong plan"],
    ]);
    // A live fragment of something that does not exist says so as HTML, never as the API's JSON.
    const gone = await get("/console/replays/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV/progress", cookie);
    expect(gone.status).toBe(404);
    expect(gone.headers.get("content-type")).toContain("text/html");
    expect(await gone.text()).toBe(
      '<p class="error" role="alert">Cannot show this (NOT_FOUND): replay job 01ARZ3NDEKTSV4RRFFQ69G5FAV does not exist.</p>',
    );
    const twice = await post(`/console/replays/jobs/${jobId}/cancel`, { csrf, reason: "wrong plan" }, { cookie });
    expect(twice.status).toBe(409);
    expect(await twice.text()).toContain("Refused (JOB_NOT_RUNNING)");
  });

  it("refuses a plan that selects nothing, with the API's code, and writes no plan", async () => {
    const { cookie, csrf } = await signIn();
    const count = async () =>
      (await env.DB.prepare("SELECT count(*) AS n FROM replay_plans").first<{ n: number }>())!.n;
    const before = await count();
    const res = await post("/console/replays/plans", { csrf, error_code: "NO_SUCH_CODE_ANYWHERE" }, { cookie });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain("Refused (NOTHING_TO_REPLAY)");
    expect(html).toContain('value="NO_SUCH_CODE_ANYWHERE"'); // the selection stays as typed
    const badGroup = await post("/console/replays/plans", { csrf, group: "not-a-group" }, { cookie });
    expect(badGroup.status).toBe(400);
    expect(await badGroup.text()).toContain("Refused (INVALID_REQUEST): filter.group: must be a failure group id");
    expect(await count()).toBe(before);
    // The plan's reason is optional, but a given one follows the API's rule.
    const shortReason = await post("/console/replays/plans", { csrf, error_code: "CF_WHY", reason: "x" }, { cookie });
    expect(shortReason.status).toBe(400);
    expect(await shortReason.text()).toContain("Refused (INVALID_REQUEST): reason: say why (at least 3 characters)");
    expect(await count()).toBe(before);
  });

  it("records the optional reason given with a plan on the plan's audit line", async () => {
    await seedFailures([prospectEvent()], { error_code: "CF_PLAN_REASON" });
    const { cookie, csrf } = await signIn();
    const form = await (await get("/console/replays/new", cookie)).text();
    expect(form).toContain("Reason (optional, recorded in the audit trail)");
    const planned = await post(
      "/console/replays/plans",
      { csrf, error_code: "CF_PLAN_REASON", reason: "  check the fix  " },
      { cookie },
    );
    expect(planned.status).toBe(303);
    const planId = planned.headers.get("location")!.split("/").pop()!;
    expect(await auditOf(planId)).toMatchObject([{ action: "plan", reason: "check the fix" }]);
  });

  it("counts a sent task that failed again on the job's progress", async () => {
    const events = Array.from({ length: 3 }, () => prospectEvent());
    await seedFailures(events, { error_code: "CF_AGAIN" });
    const { cookie, csrf } = await signIn();
    const planned = await post("/console/replays/plans", { csrf, error_code: "CF_AGAIN" }, { cookie });
    const planId = planned.headers.get("location")!.split("/").pop()!;
    const started = await post(
      `/console/replays/plans/${planId}/execute`,
      { csrf, reason: "try them again", rate_per_second: "1000" },
      { cookie },
    );
    const jobId = started.headers.get("location")!.split("/").pop()!;
    // The job sends all three and the to-d1 consumer applies them (nothing left replaying).
    await waitFor(
      async () => {
        const { results } = await env.DB.prepare(
          "SELECT count(*) AS n FROM failed_tasks WHERE error_code = 'CF_AGAIN' AND status = 'resolved'",
        ).all<{ n: number }>();
        return results[0]!.n === 3;
      },
      "the job's three tasks resolved",
      30_000,
    );
    const progress = () => get(`/console/replays/jobs/${jobId}/progress`, cookie).then((r) => r.text());
    expect(await progress()).toMatch(/<dt>Failed again<\/dt><dd>0<\/dd>/);
    // One of them fails again (a new delivery of the same event dead-letters).
    await seedFailures([events[0]], { error_code: "CF_AGAIN" });
    expect(await taskOfEvent(events[0]!.id)).toMatchObject({ status: "open", last_job_id: jobId });
    const html = await progress();
    expect(html).toMatch(/<dt>Failed again<\/dt><dd>1<\/dd>/);
    expect(html).toMatch(/<dt>Applied \(resolved\)<\/dt><dd>2<\/dd>/);
  });
});
