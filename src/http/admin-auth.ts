import type { MiddlewareHandler } from "hono";
import { operatorName } from "../../schemas/operator-api";
import { verifyAccessJwt } from "../lib/access-jwt";
import { AuthError, ForbiddenError, ValidationError } from "../../core/errors";
import { bearerOf, matchesSecret } from "../lib/bearer";
import { looksLikeOperatorToken } from "../lib/operator-token";
import { authenticateOperatorToken } from "../services/operator-tokens";
import type { AppContext, AppEnv, Principal } from "./context";

const READS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Guards the admin API. Accepts the shared ADMIN_TOKEN (break-glass and bootstrap: the operator
 * is whatever x-operator claims), an operator's own token (`sds_op_…`), or, when configured and
 * no Authorization header is sent, a Cloudflare Access JWT. The last two name the operator, and
 * an x-operator naming someone else is refused. `sharedTokenMayChange`: this route group stays
 * writable with the shared token under REQUIRE_OPERATOR_TOKENS (creating and revoking operator
 * tokens: without it nobody could be given a token, nor a leaked one be killed).
 */
export function adminAuth(opts: { sharedTokenMayChange?: boolean } = {}): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = await authenticate(c);
    if (principal.auth === "access-jwt" && !READS.has(c.req.method) && !isJson(c.req.header("content-type"))) {
      // Access adds its JWT to any request that carries the browser's Access cookie, so a page on
      // another site could make a signed-in operator's browser POST here. Browsers send such a
      // cross-site request unasked only with a "simple" content type; application/json needs a
      // CORS preflight, which this worker never grants.
      throw new ValidationError(
        "JSON_REQUIRED",
        "a change authenticated by Cloudflare Access must be sent as application/json",
        undefined,
        415,
      );
    }
    if (principal.auth !== "admin-token") {
      const claimed = c.req.header("x-operator");
      if (claimed !== undefined && claimed !== principal.operator) {
        throw new ForbiddenError(
          "OPERATOR_MISMATCH",
          `your ${principal.auth} names ${principal.operator}; x-operator says ${claimed} (drop the header or name the same operator)`,
        );
      }
    } else if (
      !READS.has(c.req.method) &&
      !opts.sharedTokenMayChange &&
      c.get("deps").settings.REQUIRE_OPERATOR_TOKENS
    ) {
      throw new ForbiddenError(
        "OPERATOR_TOKEN_REQUIRED",
        "REQUIRE_OPERATOR_TOKENS is set: changes need your own operator token (the shared admin token may only read)",
      );
    }
    c.set("principal", principal);
    await next();
  };
}

function isJson(contentType: string | undefined): boolean {
  return /^application\/json\s*(;|$)/i.test(contentType?.trim() ?? "");
}

async function authenticate(c: AppContext): Promise<Principal> {
  const header = c.req.header("authorization");
  // An explicit bearer wins: behind Access every request carries a JWT, and a CLI call that
  // brings its own token means that token.
  if (header === undefined) {
    const access = await principalOfAccess(c);
    if (access) return access;
  }
  return principalOfToken(c, bearerOf(header));
}

/**
 * The operator a Cloudflare Access JWT (`Cf-Access-Jwt-Assertion`) proves, null when Access is not
 * configured or the request carries no JWT, AuthError (ACCESS_JWT_INVALID) when it carries a bad
 * one. Also the console's sign-in and its sessions from Access (src/http/console/routes.tsx).
 */
export async function principalOfAccess(c: AppContext): Promise<Extract<Principal, { auth: "access-jwt" }> | null> {
  const assertion = c.req.header("cf-access-jwt-assertion");
  const { CF_ACCESS_TEAM_DOMAIN: teamDomain, CF_ACCESS_AUD: audience } = c.env;
  if (!assertion || !teamDomain || !audience) return null;
  const identity = await verifyAccessJwt(assertion, { teamDomain, audience }, c.get("accessKeys"), new Date());
  const name = operatorName.safeParse(identity.name);
  if (!name.success)
    throw new AuthError(
      `Cloudflare Access identity ${JSON.stringify(identity.name)} is not a usable operator name`,
      "ACCESS_JWT_INVALID",
    );
  return { auth: "access-jwt", operator: name.data };
}

/**
 * Who a presented token names: the shared ADMIN_TOKEN or an operator token, or AuthError. Also the
 * console's sign-in (src/http/console/routes.tsx), so both accept exactly the same tokens.
 */
export async function principalOfToken(c: AppContext, presented: string): Promise<Principal> {
  const adminToken = c.env.ADMIN_TOKEN;
  // The shared token first: it costs no D1 read, and it keeps working if D1 is what broke.
  if (adminToken && (await matchesSecret(presented, adminToken))) return { auth: "admin-token" };
  if (looksLikeOperatorToken(presented)) {
    const token = await authenticateOperatorToken(c.get("deps").db, presented, new Date());
    return { auth: "operator-token", operator: token.operator, tokenId: token.id };
  }
  throw new AuthError(
    adminToken ? undefined : "the admin API accepts operator tokens only: ADMIN_TOKEN is not configured",
  );
}
