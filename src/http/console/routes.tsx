/** @jsxImportSource hono/jsx */
import { Hono, type MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { operatorName } from "../../../schemas/operator-api";
import { SyncError } from "../../../core/errors";
import { syncStatus } from "../../services/sync-status";
import { principalOfAccess, principalOfToken } from "../admin-auth";
import type { AppContext, AppEnv } from "../context";
import { auditConsole } from "./audit/routes";
import { consistencyConsole } from "./consistency/routes";
import { consoleError } from "./error-page";
import { readForm } from "./form";
import { LoginPage, OverviewPage, OverviewStatus } from "./pages";
import { chartsRoutes } from "./charts/routes";
import { consoleStatic } from "./static/routes";
import {
  consoleConfigured,
  newSession,
  openSession,
  sealSession,
  SESSION_COOKIE,
  SESSION_SECONDS,
  type ConsoleSession,
} from "./session";
import { operatorTokenActive } from "../../services/operator-tokens";
import { failuresRoutes } from "./failures/routes";
import { replaysRoutes } from "./replays/routes";
import { hubspotConsole } from "./hubspot/routes";

export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

const LOGIN = "/console/login";

/** On every console response, redirects and refusals included. */
const securityHeaders: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  c.header("content-security-policy", CONSOLE_CSP);
  c.header("x-content-type-options", "nosniff");
  c.header("referrer-policy", "no-referrer");
  c.header("x-frame-options", "DENY");
  if (!c.req.path.startsWith("/console/static/")) c.header("cache-control", "no-store");
};

/**
 * A POST from another site is refused whatever it carries: SameSite=Strict already keeps the
 * cookie off it, this also covers the login form (no session yet) and browsers without SameSite.
 * Sec-Fetch-Site, which a page cannot set, decides when present: under Referrer-Policy
 * no-referrer Chromium sends `Origin: null` even for a same-origin form. Without it, an Origin
 * must be this worker's (and `null` is refused).
 */
function crossSite(c: AppContext): boolean {
  const site = c.req.header("sec-fetch-site");
  if (site !== undefined) return site !== "same-origin" && site !== "none";
  const origin = c.req.header("origin");
  return origin !== undefined && origin !== new URL(c.req.url).origin;
}

function refused(c: AppContext, message: string) {
  return c.html(<LoginPage error={`${message}. Nothing was changed.`} />, 403);
}

function setSessionCookie(c: AppContext, value: string) {
  setCookie(c, SESSION_COOKIE, value, {
    httpOnly: true,
    secure: true,
    sameSite: "Strict",
    path: "/console",
    maxAge: SESSION_SECONDS,
  });
}

/** REQUIRE_OPERATOR_TOKENS holds at sign-in as on the API: the shared token proves nobody. */
const SHARED_TOKEN_REFUSED =
  "REQUIRE_OPERATOR_TOKENS is set: the shared admin token cannot sign in. Use your own operator token (sds_op_…) or Cloudflare Access";

/** The Access identity on this request, or null (none, not configured, or not a valid JWT). */
async function accessIdentity(c: AppContext): Promise<string | null> {
  try {
    return (await principalOfAccess(c))?.operator ?? null;
  } catch (error) {
    if (error instanceof SyncError && error.status < 500) return null;
    throw error;
  }
}

async function signIn(c: AppContext) {
  if (crossSite(c)) return refused(c, "Sign-in from another site refused");
  if (!consoleConfigured(c.env))
    return c.html(<LoginPage error="The console is closed: set CONSOLE_SESSION_SECRET or ADMIN_TOKEN." />, 503);
  const form = await readForm(c);
  const token = (form.token ?? "").trim();
  const named = (form.operator ?? "").trim();
  let operator: string;
  let auth: ConsoleSession["auth"];
  let tokenId: string | undefined;
  try {
    if (form.via === "access") {
      // Cloudflare Access proved who this is (the same verification as the admin API's).
      const principal = await principalOfAccess(c);
      if (!principal)
        return c.html(
          <LoginPage error="This request carries no Cloudflare Access identity: sign in with a token." />,
          400,
        );
      operator = principal.operator;
      auth = "access-jwt";
    } else {
      if (!token) return c.html(<LoginPage error="Enter your token." operator={named} />, 400);
      const principal = await principalOfToken(c, token);
      if (principal.auth === "access-jwt") throw new Error("unreachable: a token is never an Access JWT");
      auth = principal.auth;
      if (principal.auth === "operator-token") {
        operator = principal.operator;
        tokenId = principal.tokenId;
      } else {
        if (c.get("deps").settings.REQUIRE_OPERATOR_TOKENS)
          return c.html(<LoginPage error={`Sign-in refused: ${SHARED_TOKEN_REFUSED}.`} operator={named} />, 403);
        // The shared token names nobody: the operator says who they are, as x-operator does for the API.
        const parsed = operatorName.safeParse(named);
        if (!parsed.success)
          return c.html(
            <LoginPage
              error="With the shared admin token, enter your name (letters, digits and ._@+:-)."
              operator={named}
            />,
            400,
          );
        operator = parsed.data;
      }
    }
  } catch (error) {
    if (!(error instanceof SyncError) || error.status >= 500) throw error;
    return c.html(
      <LoginPage error={`Sign-in refused: ${error.message}.`} operator={named} />,
      error.status as 401 | 403,
    );
  }
  setSessionCookie(c, await sealSession(c.env, newSession(operator, auth, new Date(), tokenId)));
  return c.redirect("/console", 303);
}

/**
 * Whether a signed session still stands: one from an operator token lasts only as long as the
 * token (revoked or expired, it ends); one from Cloudflare Access only while Access still vouches
 * for the same person on this request; one from the shared token ends once REQUIRE_OPERATOR_TOKENS
 * is set.
 */
async function stillValid(c: AppContext, session: ConsoleSession, now: Date): Promise<boolean> {
  if (session.auth === "operator-token")
    return Boolean(session.tokenId) && (await operatorTokenActive(c.get("deps").db, session.tokenId!, now));
  if (session.auth === "access-jwt") return (await accessIdentity(c)) === session.operator;
  return !c.get("deps").settings.REQUIRE_OPERATOR_TOKENS;
}

/** Everything below it needs a valid, unexpired, correctly signed session cookie. */
const requireSession: MiddlewareHandler<AppEnv> = async (c, next) => {
  const now = new Date();
  const opened = await openSession(c.env, getCookie(c, SESSION_COOKIE), now);
  const session = opened && (await stillValid(c, opened, now)) ? opened : null;
  if (!session) {
    // A stale or forged cookie is dropped so the browser stops sending it.
    if (getCookie(c, SESSION_COOKIE) !== undefined) deleteCookie(c, SESSION_COOKIE, { path: "/console", secure: true });
    return c.redirect(LOGIN, 303);
  }
  c.set("consoleSession", session);
  await next();
};

/** Every state-changing console request: same site, and the session's CSRF token in the form. */
const requireCsrf: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.method !== "POST") return next();
  if (crossSite(c)) return refused(c, "A request from another site was refused");
  const form = await readForm(c);
  const expected = c.get("consoleSession")?.csrf;
  if (!expected || form.csrf !== expected) return refused(c, "The form's security token is missing or wrong");
  await next();
};

function overviewStatus(c: AppContext) {
  const { db, supabase, breakers, queues } = c.get("deps");
  return syncStatus({ db, rpc: supabase(), breakers, queues: Object.values(queues) });
}

/** The operator console at /console (README "Console"). */
export const consoleRoutes = new Hono<AppEnv>()
  // Errors render as an HTML page under the console's CSP, not as the API's JSON envelope.
  .onError(consoleError)
  .use("*", securityHeaders)
  .route("/static", consoleStatic)
  .get("/login", async (c) => {
    if (await openSession(c.env, getCookie(c, SESSION_COOKIE), new Date())) return c.redirect("/console", 303);
    return c.html(<LoginPage access={(await accessIdentity(c)) ?? undefined} />);
  })
  .post("/login", signIn)
  .use("*", requireSession, requireCsrf)
  .route("/consistency", consistencyConsole)
  .route("/audit", auditConsole)
  .get("/", async (c) => {
    return c.html(
      <OverviewPage status={await overviewStatus(c)} session={c.get("consoleSession")!} now={Date.now()} />,
    );
  })
  .route("/failures", failuresRoutes)
  .route("/replays", replaysRoutes)
  // The overview's status region, polled by console.js (data-live) instead of reloading the page.
  .get("/live/overview", async (c) => c.html(<OverviewStatus status={await overviewStatus(c)} now={Date.now()} />))
  .route("/charts", chartsRoutes)
  .route("/hubspot", hubspotConsole)
  .post("/logout", (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: "/console", secure: true });
    return c.redirect(LOGIN, 303);
  });
