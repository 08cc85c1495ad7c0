import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { expect } from "vitest";
import { createApp } from "../../src/http/app";
import type { Jwks } from "../../src/lib/access-jwt";
import { SESSION_COOKIE } from "../../src/http/console/session";
import { SECRETS } from "./helpers";

/** The console as a browser reaches it: same-origin forms, cookies by hand, redirects not followed. */
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

/** Signs in through the form with the admin token (or an operator token); the cookie and the session's CSRF token. */
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

/**
 * A console request to the worker's app with env overrides (a setting, Access, a D1 that is down),
 * which SELF cannot take. `jwks`: Cloudflare Access's key set, when the test plays Access.
 */
export async function sendWith(
  overrides: Record<string, unknown>,
  path: string,
  opts: {
    method?: string;
    form?: Record<string, string>;
    body?: string;
    headers?: Record<string, string>;
    jwks?: Jwks;
  } = {},
) {
  const app = createApp({ accessKeys: async () => opts.jwks ?? { keys: [] } });
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(`${ORIGIN}${path}`, {
      method: opts.method ?? (opts.form || opts.body ? "POST" : "GET"),
      headers: { origin: ORIGIN, ...opts.headers },
      body: opts.body ?? (opts.form ? new URLSearchParams(opts.form) : undefined),
      redirect: "manual",
    }),
    { ...env, ...overrides },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}
