import type { MiddlewareHandler } from "hono";
import { requireBearer } from "../lib/bearer";
import type { AppEnv } from "./context";
import type { Env } from "../env";

/**
 * Guards a route group with `Authorization: Bearer <env[secretName]>`. Admin routes use
 * adminAuth (src/http/admin-auth.ts) instead: it also accepts per-operator tokens.
 */
export function bearerAuth(secretName: "WEBHOOK_SECRET" | "API_TOKEN"): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await requireBearer(c.req.header("authorization"), (c.env as Env)[secretName]);
    await next();
  };
}
