import { SELF } from "cloudflare:test";
import { expect } from "vitest";
import { SESSION_COOKIE } from "../../src/http/console/session";
import { SECRETS } from "./helpers";

/** The console's requests as a browser on the worker's own origin sends them (no redirects followed). */
export const ORIGIN = "https://worker.test";

export function post(path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  return SELF.fetch(`${ORIGIN}${path}`, {
    method: "POST",
    body: new URLSearchParams(form),
    headers: { origin: ORIGIN, ...headers },
    redirect: "manual",
  });
}

export function get(path: string, cookie?: string) {
  return SELF.fetch(`${ORIGIN}${path}`, { headers: cookie ? { cookie } : {}, redirect: "manual" });
}

/** The `name=value` of the session cookie a response sets, for the next request's Cookie header. */
export function sessionCookie(res: Response): string {
  const set = res.headers.get("set-cookie") ?? "";
  expect(set).toContain(`${SESSION_COOKIE}=`);
  return set.split(";")[0]!;
}

/** Signs in through the form with the admin token (or an operator token) and reads the page's CSRF token. */
export async function signIn(
  operator = "alice@ops",
  token: string = SECRETS.admin,
): Promise<{ cookie: string; csrf: string }> {
  const res = await post("/console/login", { token, operator });
  expect(res.status).toBe(303);
  const cookie = sessionCookie(res);
  const page = await (await get("/console", cookie)).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
  expect(csrf).toBeTruthy();
  return { cookie, csrf: csrf! };
}
