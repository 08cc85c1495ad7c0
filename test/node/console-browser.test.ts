import { expect, describe, it } from "vitest";
import { CHAOS_SECRETS, startFaultFreeStack } from "../chaos/chaos-stack";
import { openBrowser, screenshotPath, type ConsoleBrowser } from "./support/browser";

describe("the console in a real browser", () => {
  it("signs in through the form, shows a prospect inserted in Postgres, and refuses once signed out", async () => {
    // The real local stack without faults: Postgres, wrangler dev, the pg_net relay.
    const stack = await startFaultFreeStack();
    let opened: ConsoleBrowser | undefined;
    try {
      opened = await openBrowser();
      const { page, problems, context: browser } = opened;

      await page.goto(`${stack.workerUrl}/console`);
      expect(new URL(page.url()).pathname).toBe("/console/login");
      await page.getByLabel("Token", { exact: true }).fill("wrong-token");
      await page.getByLabel("Your name", { exact: true }).fill("alice@ops");
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect.poll(() => page.getByRole("alert").textContent()).toContain("Sign-in refused");

      await page.getByLabel("Token", { exact: true }).fill(CHAOS_SECRETS.ADMIN_TOKEN);
      await page.getByLabel("Your name", { exact: true }).fill("alice@ops");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(`${stack.workerUrl}/console`);
      const cookies = await browser.cookies();
      expect(cookies.map((c) => c.name)).toEqual(["sds_console"]);
      expect(cookies[0]).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict", path: "/console" });
      expect(cookies[0]!.value).not.toContain(CHAOS_SECRETS.ADMIN_TOKEN);
      expect(await page.evaluate(() => window.localStorage.length)).toBe(0);

      const id = (
        await stack.apiSql<{ id: string }[]>`
        insert into prospects (name) values ('Ada from the console test') returning id`
      )[0]!.id;
      await expect
        .poll(async () => (await stack.d1.query("SELECT id FROM prospects WHERE id = ?", [id])).length, {
          timeout: 30_000,
        })
        .toBe(1);
      const n = (await stack.d1.query<{ n: number }>("SELECT count(*) AS n FROM prospects"))[0]!.n;
      // The every-minute cron's sweeps, so the page shows the pipeline as production would.
      await expect
        .poll(
          async () => {
            await stack.fireCron();
            await page.reload();
            return page.getByText("the change-log sweep has never run").count();
          },
          { timeout: 30_000 },
        )
        .toBe(0);
      const card = page.getByRole("listitem").filter({ has: page.locator("#entity-prospects") });
      await expect.poll(() => card.textContent()).toContain(`Rows in D1${n}`);
      expect(await card.textContent()).toContain("supabase → d1");
      expect(await card.locator(".badge").textContent()).toMatch(/^(Fresh|Stale|Very stale|Warning|Error)$/);
      await expect.poll(() => page.locator("time[data-age]").textContent()).toMatch(/^updated \d+ s ago$/);
      expect(await page.locator("#entity-emails").count()).toBe(1);

      await page.screenshot({ path: screenshotPath("console-overview.png"), fullPage: true });
      await page.setViewportSize({ width: 360, height: 800 });
      // Readable at 360 px: nothing wider than the screen, so no sideways scrolling.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
      await page.screenshot({ path: screenshotPath("console-overview-mobile.png"), fullPage: true });

      await page.getByRole("button", { name: "Sign out" }).click();
      await page.waitForURL(`${stack.workerUrl}/console/login`);
      expect(await browser.cookies()).toEqual([]);
      await page.goto(`${stack.workerUrl}/console`);
      expect(new URL(page.url()).pathname).toBe("/console/login");
      expect(problems).toEqual([]);
    } finally {
      await opened?.close();
      await stack.stop();
    }
  });
});
