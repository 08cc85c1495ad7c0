import { expect, describe, it } from "vitest";
import { CHAOS_SECRETS, startFaultFreeStack } from "../chaos/chaos-stack";
import { openBrowser, screenshotPath, signIn, type ConsoleBrowser } from "./support/browser";

describe("the console's consistency and audit pages in a real browser", () => {
  it("a repairing reconciliation from the page brings back a row deleted from D1, and the audit page names who ran it", async () => {
    // The real local stack without faults. Reconciliation leaves rows changed within its grace
    // period to the pipeline; the row here is seconds old, so the grace is 0 for this stack.
    const stack = await startFaultFreeStack({
      vars: { RECONCILE_GRACE_SECONDS: "0" },
    });
    let opened: ConsoleBrowser | undefined;
    try {
      opened = await openBrowser();
      const { page, problems } = opened;
      await signIn(page, stack.workerUrl, CHAOS_SECRETS.ADMIN_TOKEN, "alice@ops");

      const id = (
        await stack.apiSql<{ id: string }[]>`
        insert into prospects (name) values ('Grace Hopper Hotel') returning id`
      )[0]!.id;
      await expect
        .poll(async () => (await stack.d1.query("SELECT id FROM prospects WHERE id = ?", [id])).length, {
          timeout: 30_000,
        })
        .toBe(1);
      // Someone deletes the row from the replica behind the pipeline's back.
      await stack.d1.query("DELETE FROM prospects WHERE id = ?", [id]);
      expect(await stack.d1.query("SELECT id FROM prospects WHERE id = ?", [id])).toEqual([]);

      await page.getByRole("link", { name: "Consistency" }).click();
      await page.waitForURL(`${stack.workerUrl}/console/consistency`);
      const reconcile = page.getByRole("region", { name: "Reconcile" });
      await reconcile.getByLabel("Entity").selectOption("prospects");
      await reconcile.getByRole("radio", { name: /Repair: make the replica/ }).check();
      await reconcile.getByLabel(/^Reason/).fill("row deleted from D1 by hand");
      await reconcile.getByRole("button", { name: "Run reconciliation" }).click();
      await page.waitForURL(/\/console\/consistency\?runs=/);
      const resultUrl = page.url();

      const result = await page.locator(".results").textContent();
      expect(result).toContain("Missing in the replica: 1");
      expect(result).toContain(id);
      expect(result).toContain("1 difference(s), 1 repaired");
      expect(await stack.d1.query("SELECT id, name FROM prospects WHERE id = ?", [id])).toEqual([
        { id, name: "Grace Hopper Hotel" },
      ]);

      // A version regression (the replica saw a later version than the source holds, as after a
      // point-in-time restore): a dry run finds it, the panel lists it, a re-stamp resolves it.
      await stack.d1.query("UPDATE prospects SET version = 5 WHERE id = ?", [id]);
      await reconcile.getByLabel("Entity").selectOption("prospects");
      await reconcile.getByRole("radio", { name: /Dry run/ }).check();
      await reconcile.getByRole("button", { name: "Run reconciliation" }).click();
      await page.waitForURL(/\/console\/consistency\?runs=/);
      const regressions = page.getByRole("region", { name: "Version regressions" });
      expect(await regressions.getByRole("row").filter({ hasText: id }).textContent()).toMatch(/5 \(row\)/);
      await regressions.getByLabel(/^Reason/).fill("restored to 09:00");
      await page.locator("#regressions").screenshot({ path: screenshotPath("console-regressions.png") });
      await regressions.getByRole("button", { name: /Re-stamp its open regressions/ }).click();
      await page.waitForURL(/restamped=prospects:1:0/);
      expect(await regressions.getByRole("status").textContent()).toContain("1 row(s) re-stamped at the source");
      expect(await regressions.textContent()).toContain("No open version regression.");
      // The re-stamp is a change at the source: it reaches D1 above the version the replica held.
      await expect
        .poll(
          async () =>
            (await stack.d1.query<{ version: number }>("SELECT version FROM prospects WHERE id = ?", [id]))[0]?.version,
          {
            timeout: 30_000,
          },
        )
        .toBeGreaterThan(5);

      // The backfill's progress bar, with its numbers in words.
      const backfill = page.getByRole("region", { name: "Backfill (manual resync)" });
      await backfill.getByLabel("Entity").selectOption("prospects");
      await backfill.getByLabel(/^Reason/).fill("resync after the incident");
      await backfill.getByRole("button", { name: "Start or resume backfill" }).click();
      await page.waitForURL(`${stack.workerUrl}/console/consistency#backfill`);
      await expect
        .poll(() => page.locator("#backfill-prospects").textContent())
        .toMatch(/prospects: complete · \d+ row/);
      expect(await page.locator("#backfill-prospects-bar").getAttribute("value")).toBeTruthy();

      await page.goto(resultUrl);
      await page.screenshot({ path: screenshotPath("console-consistency.png"), fullPage: true });
      await page.setViewportSize({ width: 360, height: 800 });
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
      await page.screenshot({ path: screenshotPath("console-consistency-mobile.png"), fullPage: true });
      await page.setViewportSize({ width: 1280, height: 900 });

      await page.getByRole("link", { name: "Audit" }).click();
      await page.waitForURL(`${stack.workerUrl}/console/audit`);
      const line = page.getByRole("row").filter({ hasText: "reconcile" }).filter({ hasText: "prospects" });
      expect(await line.count()).toBe(1);
      expect(await line.textContent()).toContain("alice@ops");
      expect(await line.textContent()).toContain("row deleted from D1 by hand");
      await page.screenshot({ path: screenshotPath("console-audit.png"), fullPage: true });
      await page.getByLabel("Action").selectOption("backfill");
      await page.getByRole("button", { name: "Apply filters" }).click();
      await page.waitForURL(/action=backfill/);
      expect(await page.getByRole("row").filter({ hasText: "alice@ops" }).count()).toBe(1);
      await page.setViewportSize({ width: 360, height: 800 });
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
      expect(problems).toEqual([]);
    } finally {
      await opened?.close();
      await stack.stop();
    }
  });
});
