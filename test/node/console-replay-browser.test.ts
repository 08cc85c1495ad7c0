import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { CHAOS_SECRETS, startFaultFreeStack } from "../chaos/chaos-stack";
import { openBrowser, screenshotPath, signIn, type ConsoleBrowser } from "./support/browser";
import { sendEmail } from "./support/emails";

const OPERATOR = "alice@ops";
const GHOSTS = 2; // prospects Postgres does not have yet
const EMAILS = 16; // at 2 per second the job runs for several seconds: long enough to see it running
const RATE = 2;
const REASON = "missing prospects restored in Supabase";

/** The value a labelled fact (<dt>label</dt><dd>value</dd>) shows on the page. */
async function fact(page: Page, label: string): Promise<string> {
  return (await page.locator(`dt:text-is("${label}") + dd`).first().textContent())?.trim() ?? "";
}

/**
 * Reloads until `probe` holds. The live script (console.js) polls data-live fragments in place;
 * a reload shows the same server-rendered state and works with or without it.
 */
async function reloadUntil(page: Page, probe: () => Promise<boolean>, timeout = 90_000): Promise<void> {
  await expect
    .poll(
      async () => {
        await page.reload();
        return probe();
      },
      { timeout, interval: 500 },
    )
    .toBe(true);
}

/** Readable at 360 px: nothing wider than the screen, so no sideways scrolling. */
async function fitsPhone(page: Page): Promise<number> {
  await page.setViewportSize({ width: 360, height: 800 });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  await page.setViewportSize({ width: 1280, height: 900 });
  return width;
}

describe("the failures and replay console in a real browser", () => {
  it("sees emails fail, fixes the cause, plans and replays from the page, watches the job finish and the group resolve", async () => {
    const stack = await startFaultFreeStack();
    let opened: ConsoleBrowser | undefined;
    try {
      opened = await openBrowser();
      const { page, problems } = opened;
      await signIn(page, stack.workerUrl, CHAOS_SECRETS.ADMIN_TOKEN, OPERATOR);

      // 1. Emails for prospects Postgres does not have: the to-supabase consumer dead-letters them.
      const ghosts = Array.from({ length: GHOSTS }, () => randomUUID());
      for (let i = 0; i < EMAILS; i++) await sendEmail(stack, ghosts[i % GHOSTS]!, i);

      // 2. The group appears on the Failures page with all its tasks open.
      await page.getByRole("link", { name: "Failures" }).click();
      await page.waitForURL(`${stack.workerUrl}/console/failures`);
      const groupLink = page.getByRole("link", { name: "FOREIGN_KEY_VIOLATION" });
      const row = page.locator("#failure-groups tr").filter({ has: groupLink });
      await reloadUntil(
        page,
        async () => (await row.locator('td[data-label="Open tasks"]').textContent()) === String(EMAILS),
      );
      expect(await row.locator('td[data-label="Status"]').textContent()).toBe("open");
      expect(await row.locator('td[data-label="Entity"]').textContent()).toBe("emails (to-supabase)");
      expect(await row.locator('td[data-label="Message"]').textContent()).toContain("emails_prospect_id_fkey");

      // 3. Drill in: the group, its tasks, a task's event.
      await groupLink.click();
      await page.waitForURL(/\/console\/failures\/groups\/[0-9a-f]{16}$/);
      const groupUrl = page.url();
      expect(await fact(page, "Open tasks")).toBe(String(EMAILS));
      expect(await page.getByRole("table", { name: "Tasks of this group" }).locator("tbody tr").count()).toBe(EMAILS);
      expect(await page.getByRole("button", { name: "Acknowledge" }).count()).toBe(1);
      expect(await page.getByRole("button", { name: "Reopen" }).count()).toBe(0); // it is open already
      await page.screenshot({ path: screenshotPath("console-failure-group.png"), fullPage: true });
      expect(await fitsPhone(page)).toBeLessThanOrEqual(360);

      await page.getByRole("table", { name: "Tasks of this group" }).getByRole("link").first().click();
      await page.waitForURL(/\/console\/failures\/tasks\/[0-9A-Z]{26}$/);
      const event = JSON.parse((await page.getByLabel("The event as it failed, JSON").textContent())!) as {
        entity: string;
        row: { prospect_id: string };
      };
      expect(event.entity).toBe("emails");
      expect(ghosts).toContain(event.row.prospect_id);
      expect(await page.locator('td[data-label="What"]').first().textContent()).toBe("failure");
      expect(await fitsPhone(page)).toBeLessThanOrEqual(360);

      // Acknowledge it, with a reason, by keyboard alone: the page says so and the status moves.
      await page.goto(groupUrl);
      await page.getByLabel("Reason (required, recorded in the audit trail)").focus();
      await page.keyboard.type("restoring the prospects");
      await page.keyboard.press("Tab");
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Acknowledge");
      await page.keyboard.press("Enter");
      await expect.poll(() => page.getByRole("status").textContent()).toBe("The group is now acknowledged.");
      expect(await fact(page, "Status")).toContain("acknowledged");

      // 4. Fix the cause outside the pipeline; wait until the prospects reached D1 too.
      for (const [i, id] of ghosts.entries())
        await stack.apiSql`insert into prospects (id, name) values (${id}, ${`Restored ${i}`})`;
      await expect
        .poll(
          async () =>
            (await stack.d1.query("SELECT id FROM prospects WHERE id IN (?, ?)", ghosts as [string, string])).length,
          { timeout: 30_000 },
        )
        .toBe(GHOSTS);

      // 5. Replay… from the group: the selection comes filled in; the dry run shows its counts.
      await page.getByRole("link", { name: "Replay…" }).click();
      await page.waitForURL(/\/console\/replays\/new\?group=/);
      expect(await page.getByLabel("Failure group").inputValue()).toBe(groupUrl.split("/").pop());
      await page.getByRole("button", { name: "Make the dry-run plan" }).click();
      await page.waitForURL(/\/console\/replays\/plans\/[0-9A-Z]{26}$/);
      expect(await fact(page, "Tasks selected")).toBe(String(EMAILS));
      expect(await fact(page, "Would be sent")).toBe(String(EMAILS));
      expect(await fact(page, "By error code")).toBe(`FOREIGN_KEY_VIOLATION: ${EMAILS}`);

      // Without a reason the replay is refused, with the code, and nothing starts.
      await page.getByRole("button", { name: `Replay ${EMAILS} task(s)` }).click();
      await expect.poll(() => page.getByRole("alert").textContent()).toContain("Refused (INVALID_REQUEST): reason:");
      expect((await stack.d1.query("SELECT id FROM replay_jobs")).length).toBe(0);

      // 6. Confirm with a reason and a low rate; the job page shows it running, then finished.
      await page.getByLabel("Reason (required, recorded in the audit trail)").fill(REASON);
      await page.getByLabel("Rate (events per second, 1 to 1000)").fill(String(RATE));
      await page.getByRole("button", { name: `Replay ${EMAILS} task(s)` }).click();
      await page.waitForURL(/\/console\/replays\/jobs\/[0-9A-Z]{26}$/);
      const jobId = page.url().split("/").pop()!;
      const progress = page.locator("#job-progress");
      const liveUrl = `/console/replays/jobs/${jobId}/progress`;
      expect(await progress.getAttribute("data-live")).toBe(liveUrl);
      // The fragment a live script polls: same-origin, allowed by the CSP, HTML for the region.
      const fragment = await page.evaluate(async (u) => (await fetch(u)).text(), liveUrl);
      expect(fragment).toMatch(/^<p><span class="badge job-(running|completed)">/);
      expect(fragment).toContain(`of ${EMAILS} handled`);
      // The screenshot while it runs (a few sent, some remaining), if the machine lets us catch it.
      const status = () => progress.locator(".badge").textContent();
      await reloadUntil(
        page,
        async () => (await status()) !== "running" || Number(await fact(page, "Sent")) >= EMAILS / 4,
      );
      if ((await status()) === "running" && Number(await fact(page, "Remaining")) > 0)
        await page.screenshot({ path: screenshotPath("console-replay-job.png"), fullPage: true });
      expect(await fitsPhone(page)).toBeLessThanOrEqual(360);

      await reloadUntil(
        page,
        async () =>
          (await progress.locator(".badge").textContent()) === "completed" &&
          (await fact(page, "Applied (resolved)")) === String(EMAILS),
      );
      expect(await fact(page, "Sent")).toBe(String(EMAILS));
      expect(await fact(page, "Remaining")).toBe("0");
      expect(await fact(page, "Failed again")).toBe("0");
      expect(await fact(page, "Sent, not settled yet")).toBe("0");
      expect(await progress.getAttribute("data-live")).toBeNull(); // nothing moves any more
      expect(await page.getByRole("button", { name: "Cancel the job" }).count()).toBe(0);

      // The emails are in Postgres now.
      const [landed] =
        await stack.sql`select count(*)::int as n from emails where prospect_id = any(${ghosts}::uuid[])`;
      expect(landed!.n).toBe(EMAILS);

      // 7. The group resolved itself; the Replays list shows the job.
      await page.goto(groupUrl);
      await reloadUntil(page, async () => (await fact(page, "Status")).startsWith("resolved"));
      expect(await fact(page, "Open tasks")).toBe("0");
      await page.getByRole("link", { name: "Replays" }).click();
      expect(await page.locator("#replay-jobs tr").filter({ hasText: jobId }).textContent()).toContain("completed");

      // 8. The audit trail names the operator for each of the page's actions (as claimed: admin token).
      const audit = await stack.d1.query<{ action: string; actor: string; auth: string; reason: string | null }>(
        "SELECT action, actor, auth, reason FROM operator_audit ORDER BY id",
      );
      expect(audit).toEqual([
        { action: "acknowledge", actor: OPERATOR, auth: "admin-token", reason: "restoring the prospects" },
        { action: "plan", actor: OPERATOR, auth: "admin-token", reason: null },
        { action: "replay", actor: OPERATOR, auth: "admin-token", reason: REASON },
      ]);
      expect(problems).toEqual([]);
    } finally {
      await opened?.close();
      await stack.stop();
    }
  });
});
