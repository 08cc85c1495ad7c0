import { randomBytes } from "node:crypto";
import { expect, describe, it } from "vitest";
import { CHAOS_SECRETS, startFaultFreeStack, type ChaosStack } from "../chaos/chaos-stack";
import { startHubSpotStandIn, type HubSpotStandIn } from "../../tools/local/hubspot-standin";
import { openBrowser, screenshotPath, signIn, type ConsoleBrowser } from "./support/browser";

describe("the console's HubSpot page in a real browser", () => {
  it("connects a portal through HubSpot's (the stand-in's) authorize page, runs a full sync from the page, disconnects", async () => {
    const standIn: HubSpotStandIn = await startHubSpotStandIn({ portalId: 62515 });
    standIn.portal.generate(300);
    let stack: ChaosStack | undefined;
    let opened: ConsoleBrowser | undefined;
    try {
      stack = await startFaultFreeStack({
        vars: {
          HUBSPOT_CLIENT_ID: standIn.clientId,
          HUBSPOT_CLIENT_SECRET: standIn.clientSecret,
          HUBSPOT_API_BASE: standIn.url,
          HUBSPOT_AUTH_BASE: standIn.url,
          HUBSPOT_TOKEN_KEYS: `k1:${randomBytes(32).toString("base64")}`,
        },
      });
      opened = await openBrowser();
      const { page, problems } = opened;
      await signIn(page, stack.workerUrl, CHAOS_SECRETS.ADMIN_TOKEN, "alice@ops");

      await page.getByRole("link", { name: "HubSpot" }).click();
      await page.waitForURL(`${stack.workerUrl}/console/hubspot`);
      expect(await page.locator(".hubspot-status").textContent()).toContain("Not connected");

      // Connect → the stand-in's authorize page (it approves at once) → the callback → back here.
      await page.getByRole("link", { name: "Connect HubSpot" }).click();
      await page.waitForURL(`${stack.workerUrl}/console/hubspot?connected=62515`, { timeout: 15_000 });
      expect(await page.getByRole("status").textContent()).toContain("HubSpot portal 62515 connected.");
      const status = await page.locator(".hubspot-status").textContent();
      expect(status).toContain("Connected");
      expect(status).toContain("Portal 62515 is connected");
      expect(standIn.stats().byRoute["GET /oauth/authorize"]).toBe(1);
      expect(standIn.stats().byRoute["POST /oauth/v1/token"]).toBe(1);

      // Tokens in Postgres are ciphertext only.
      const [row] = await stack.sql<{ id: string; access: Buffer; refresh: Buffer }[]>`
        select id, access_token_ciphertext as access, refresh_token_ciphertext as refresh
          from public.hubspot_connections where portal_id = 62515`;
      expect(row!.access.toString("latin1")).not.toMatch(/access-|refresh-/);

      // Full sync from the page: steps through the control queue against the stand-in; the live
      // fragment shows it complete with every contact, without a reload.
      await page.getByRole("button", { name: "Full sync" }).click();
      await page.waitForURL(/\/console\/hubspot\?started=full-/);
      const feed = page.locator("ol.event-feed");
      const loadedAt = await page.evaluate(() => performance.timeOrigin);
      const headAtLoad = Number(await feed.getAttribute("data-events-after"));
      const sessions = page.locator('[data-live="/console/hubspot/live/sessions"]');
      const line = sessions.getByRole("row").filter({ hasText: /full-/ });
      await expect.poll(() => line.textContent(), { timeout: 60_000 }).toContain("Completed");
      expect(await line.textContent()).toContain("300");

      // The event feed: sync:start … sync:complete of this session, the completion streamed in by
      // EventSource after the page loaded (its seq is past the head the page started from), with
      // no reload (same document) and no fallback to polling.
      const sessionId = (await line.locator("code").textContent())!;
      const ours = feed.locator("li.event").filter({ hasText: sessionId });
      const complete = ours.and(feed.locator('[data-event="sync:complete"]'));
      await expect.poll(() => complete.count(), { timeout: 15_000 }).toBe(1);
      expect(Number(await complete.getAttribute("data-seq"))).toBeGreaterThan(headAtLoad);
      expect(await complete.textContent()).toContain("completed: 300 contacts");
      expect(await ours.and(feed.locator('[data-event="sync:start"]')).count()).toBe(1);
      const names = await ours.evaluateAll((items) => items.map((li) => li.getAttribute("data-event")));
      expect(names[0]).toBe("sync:complete"); // newest first
      expect(names.at(-1)).toBe("sync:start");
      expect(await page.evaluate(() => performance.timeOrigin)).toBe(loadedAt);
      expect(await page.locator("[data-events-status]").textContent()).toMatch(/^Live: /);
      expect(await feed.getAttribute("data-live")).toBeNull();

      await page.screenshot({ path: screenshotPath("console-hubspot.png"), fullPage: true });
      await page.locator("#hubspot-events").scrollIntoViewIfNeeded();
      await page.screenshot({ path: screenshotPath("console-hubspot-events.png") });

      // The session's detail: its log, a line per page read (3 live, 1 archived), and no error.
      await line.getByRole("link").click();
      await page.waitForURL(/\/console\/hubspot\/sessions\/[0-9a-f-]{36}$/);
      const logRows = page.getByRole("table", { name: "Log", exact: true }).locator("tbody tr");
      expect(await logRows.count()).toBe(4);
      expect(await logRows.first().textContent()).toContain("live:start");
      expect(await page.getByRole("table", { name: "Log", exact: true }).textContent()).toContain("archived:start");
      expect(await page.getByRole("table", { name: "Errors", exact: true }).textContent()).toContain(
        "No error recorded for this session",
      );
      await page.screenshot({ path: screenshotPath("console-hubspot-session.png"), fullPage: true });
      await page.goBack();
      await page.setViewportSize({ width: 360, height: 800 });
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
      await page.setViewportSize({ width: 1280, height: 900 });

      // Disconnect with a reason: tokens erased, the page says so.
      await page.getByLabel(/^Reason/).fill("moving to the production HubSpot app");
      await page.getByRole("button", { name: "Disconnect portal 62515" }).click();
      await page.waitForURL(`${stack.workerUrl}/console/hubspot?disconnected=62515&revoked=1`);
      expect(await page.getByRole("status").first().textContent()).toContain("refresh token revoked at HubSpot");
      expect(await page.locator(".hubspot-status").textContent()).toContain("Disconnected");
      const [after] = await stack.sql`select status, access_token_ciphertext from public.hubspot_connections
                                       where portal_id = 62515`;
      expect(after).toMatchObject({ status: "disconnected", access_token_ciphertext: null });
      expect(problems).toEqual([]);
    } finally {
      await opened?.close();
      await stack?.stop();
      await standIn.stop();
    }
  });
});
