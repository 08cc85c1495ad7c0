import { describe, expect, it } from "vitest";
import { get, post, signIn } from "./support/console";
import { op } from "./support/operator";

/** Audit lines written the way operators write them: real actions through the admin API. */
async function reconcileAs(operator: string, reason: string) {
  // A report-only slice nobody else uses, so the repairing run changes nothing of other suites.
  const res = await op(
    "POST",
    "/v1/admin/reconcile",
    {
      entity: "prospects",
      after: "c0c0b000-0000-0000-0000-000000000000",
      until: "c0c0b000-ffff-ffff-ffff-ffffffffffff",
      reason,
    },
    operator,
  );
  expect(res.status).toBe(200);
  return res.json.data.runs[0].id as string;
}

/** The rows of the page's audit table, as `actor|action|target` strings. */
function rows(html: string): string[] {
  return [
    ...html.matchAll(
      /<tr><td><time[^>]*>[^<]*<\/time><\/td><td[^>]*><strong>([^<]*)<\/strong>.*?<\/td><td>([^<]*)<\/td><td>[^<]*<code>([^<]*)<\/code>/g,
    ),
  ].map((m) => `${m[1]}|${m[2]}|${m[3]}`);
}

describe("console audit trail", () => {
  it("needs a session", async () => {
    const res = await get("/console/audit");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/console/login");
  });

  it("lists operator actions newest first with who (proven or claimed), filtered by operator, action and target", async () => {
    const first = await reconcileAs("sam@ops", "first look");
    const second = await reconcileAs("sam@ops", "second look");
    await reconcileAs("tina@ops", "someone else");
    const { cookie } = await signIn();
    const page = await (await get("/console/audit?actor=sam%40ops&action=reconcile", cookie)).text();
    expect(page).toContain('aria-current="page">Audit</a>');
    expect(rows(page)).toEqual(["sam@ops|reconcile|prospects", "sam@ops|reconcile|prospects"]);
    expect(page).toContain("claimed (shared admin token)");
    expect(page.indexOf(`run: ${second}`)).toBeLessThan(page.indexOf(`run: ${first}`));
    expect(page).toContain("second look");
    // The filters stay in the form.
    expect(page).toContain('id="audit-actor" name="actor" type="text" value="sam@ops"');
    expect(page).toContain('<option value="reconcile" selected="">reconcile</option>');
    const none = await (await get("/console/audit?actor=sam%40ops&action=backfill", cookie)).text();
    expect(rows(none)).toEqual([]);
    expect(none).toContain("No audit entries match.");
  });

  it("pages with the keyset cursor and keeps the filters in the links", async () => {
    for (const reason of ["page one", "page two", "page three"]) await reconcileAs("uma@ops", reason);
    const { cookie } = await signIn();
    const seen: string[] = [];
    let next: string | null = "/console/audit?actor=uma%40ops&limit=2";
    while (next) {
      const html: string = await (await get(next.replace(/&amp;/g, "&"), cookie)).text();
      seen.push(...[...html.matchAll(/<td class="wrap">(page [a-z]+)<\/td>/g)].map((m) => m[1]!));
      const link: string | null = /<a href="([^"]+)">Older entries<\/a>/.exec(html)?.[1] ?? null;
      if (link) expect(link).toContain("actor=uma%40ops");
      next = link;
    }
    expect(seen).toEqual(["page three", "page two", "page one"]);
  });

  it("filters by time range: a datetime-local value is read as UTC", async () => {
    await reconcileAs("vera@ops", "in range");
    const { cookie } = await signIn();
    const since = new Date(Date.now() - 60 * 60 * 1000).toISOString().slice(0, 16);
    const inRange = await (await get(`/console/audit?actor=vera%40ops&since=${since}`, cookie)).text();
    expect(rows(inRange)).toEqual(["vera@ops|reconcile|prospects"]);
    const before = await (await get(`/console/audit?actor=vera%40ops&until=${since}`, cookie)).text();
    expect(rows(before)).toEqual([]);
  });

  it("refuses a bad filter with its code in an alert (status 400), never a JSON blob", async () => {
    const { cookie } = await signIn();
    for (const query of ["since=2025-02-30T10:00", "action=drop-tables", "cursor=nope", "actor=%3Cscript%3E"]) {
      const res = await get(`/console/audit?${query}`, cookie);
      expect(res.status, query).toBe(400);
      const html = await res.text();
      expect(html).toContain('<p class="error" role="alert">Cannot show this (INVALID_REQUEST): ');
      expect(html).not.toContain('"success"');
      expect(html).not.toContain("<script>");
    }
  });

  it("shows an action taken in the console with the signed-in operator's name", async () => {
    const { cookie, csrf } = await signIn("wanda@ops");
    const res = await post(
      "/console/consistency/backfill",
      { csrf, entity: "mailboxes", reason: "audit page test" },
      { cookie },
    );
    expect(res.status).toBe(303);
    const page = await (await get("/console/audit?actor=wanda%40ops", cookie)).text();
    expect(rows(page)).toEqual(["wanda@ops|backfill|mailboxes"]);
    expect(page).toContain("audit page test");
  });
});
