import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { PROJECT_ROOT } from "../../../tools/local/wrangler";

/** Debian's chromium package (.ci/run installs it); never a downloaded browser. */
export const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export type ConsoleBrowser = {
  context: BrowserContext;
  page: Page;
  /** CSP violations and page errors seen so far; a test expects it empty at the end. */
  problems: string[];
  close(): Promise<void>;
};

/** A fresh headless Chromium profile with one page that records CSP violations and script errors. */
export async function openBrowser(viewport = { width: 1280, height: 900 }): Promise<ConsoleBrowser> {
  const userDataDir = mkdtempSync(join(tmpdir(), "sds-console-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    viewport,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  // A CSP violation (an inline style or script slipping in) shows as a console error. Others are
  // expected in tests: a refused request's 4xx, the favicon the worker does not serve.
  page.on("console", (m) => /Content Security Policy|Refused to/i.test(m.text()) && problems.push(m.text()));
  page.on("pageerror", (e) => problems.push(e.message));
  return {
    context,
    page,
    problems,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Signs in through the form as a person would; resolves on the overview. */
export async function signIn(page: Page, workerUrl: string, token: string, operator: string): Promise<void> {
  await page.goto(`${workerUrl}/console/login`);
  await page.getByLabel("Token", { exact: true }).fill(token);
  await page.getByLabel("Your name", { exact: true }).fill(operator);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${workerUrl}/console`);
}

/** Where tests write the screenshots the README shows. */
export function screenshotPath(name: string): string {
  return join(PROJECT_ROOT, "docs", name);
}
