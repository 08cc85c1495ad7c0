import { describe, expect, it } from "vitest";
import { CHAOS_SECRETS, startFaultFreeStack } from "../chaos/chaos-stack";
import { openBrowser, screenshotPath, signIn, type ConsoleBrowser } from "./support/browser";

const POLL = { timeout: 60_000, interval: 500 };

describe("console charts and live updates in a real browser", () => {
  it("the overview and the charts update without a reload as prospects inserted in Postgres are applied", async () => {
    // The real local stack without faults: Postgres, wrangler dev, the pg_net relay.
    const stack = await startFaultFreeStack();
    let opened: ConsoleBrowser | undefined;
    const insertProspects = async (n: number, label: string) => {
      for (let i = 0; i < n; i++) await stack.apiSql`insert into prospects (name) values (${`${label} ${i}`})`;
    };
    try {
      opened = await openBrowser();
      const { page, problems } = opened;
      await signIn(page, stack.workerUrl, CHAOS_SECRETS.ADMIN_TOKEN, "carla@ops");

      // Overview: a marker on the window survives only if the page is never reloaded.
      await page.evaluate(() => ((window as unknown as { marker: string }).marker = "no reload"));
      const card = page.locator("li.card").filter({ has: page.locator("#entity-prospects") });
      const rowsInD1 = async () => Number(/Rows in D1(\d+)/.exec((await card.textContent()) ?? "")?.[1] ?? -1);
      const before = await rowsInD1();
      expect(before).toBeGreaterThanOrEqual(0);
      await insertProspects(3, "Live overview");
      await expect.poll(rowsInD1, POLL).toBe(before + 3);
      expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe("no reload");
      // The data's age, kept current by console.js.
      await expect.poll(() => page.locator("time[data-age]").first().textContent()).toMatch(/^updated \d+ s ago$/);

      // Charts: the text alternative of Supabase → D1 counts what was applied, and keeps counting.
      await page.getByRole("link", { name: "Charts" }).click();
      await page.waitForURL(`${stack.workerUrl}/console/charts`);
      await page.evaluate(() => ((window as unknown as { marker: string }).marker = "no reload"));
      const summary = page.locator("#numbers-to-d1 .chart-summary");
      const applied = async () => Number(/(\d+) applied/.exec((await summary.textContent()) ?? "")?.[1] ?? -1);
      expect(await applied()).toBeGreaterThanOrEqual(3);
      const shown = await applied();
      await insertProspects(5, "Live chart");
      await expect.poll(applied, POLL).toBe(shown + 5);
      expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe("no reload");
      expect(await summary.textContent()).toMatch(/lag p50 ≤ [\d.]+ m?s, p99 ≤ [\d.]+ m?s/);
      // Every chart was drawn by uPlot (a canvas each), each with its numbers in a table.
      await expect.poll(() => page.locator(".chart canvas").count(), POLL).toBe(4);
      await page.screenshot({ path: screenshotPath("console-charts.png"), fullPage: true });
      await page.locator("#numbers-to-d1 summary").click();
      const table = page.getByRole("table", { name: /to-d1, last hour, per minute/ });
      await expect.poll(() => table.locator("tbody tr").count()).toBe(60);
      // An open table stays open across refreshes.
      await expect.poll(applied, POLL).toBeGreaterThanOrEqual(shown + 5);
      await insertProspects(1, "Still open");
      await expect.poll(applied, POLL).toBe(shown + 6);
      expect(await page.locator("#numbers-to-d1 details").getAttribute("open")).not.toBeNull();

      // The worker down: the numbers stay, marked out of date in words; they recover after.
      await stack.withWorkerStopped(async () => {
        await expect
          .poll(
            () => page.locator("#numbers-to-d1").evaluate((el) => el.previousElementSibling?.textContent ?? ""),
            POLL,
          )
          .toContain("Out of date: the server could not be reached");
        expect(await applied()).toBe(shown + 6);
        await page.screenshot({ path: screenshotPath("console-live-out-of-date.png") });
      });
      await expect.poll(() => page.locator(".out-of-date-note").count(), POLL).toBe(0);

      // Readable at 360 px: nothing wider than the screen.
      await page.setViewportSize({ width: 360, height: 800 });
      // (with the table open: it scrolls inside its own region)
      await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth), POLL).toBeLessThanOrEqual(360);
      await page.locator("#numbers-to-d1 summary").click();
      await page.screenshot({ path: screenshotPath("console-charts-mobile.png"), fullPage: true });

      // The session gone (the fragment's fetch lands on the sign-in page): not swapped in, said in words.
      await opened.context.clearCookies();
      await expect
        .poll(() => page.locator("#numbers-to-d1").evaluate((el) => el.previousElementSibling?.textContent ?? ""), POLL)
        .toContain("Out of date: the session has ended, sign in again");
      expect(await page.locator("#numbers-to-d1 form.login").count()).toBe(0);
      expect(await applied()).toBe(shown + 6);
      expect(problems).toEqual([]);
    } finally {
      await opened?.close();
      await stack.stop();
    }
  });
});
