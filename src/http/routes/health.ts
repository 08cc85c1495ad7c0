import { Hono } from "hono";
import { checkHealth } from "../../services/health";
import { supabaseFromEnv } from "../../stores/supabase-from-env";
import type { AppEnv } from "../context";
import { ok } from "../envelope";

export const VERSION = "0.1.0";

/** GET /health: 200 when both stores answer, 503 (same body) when either does not. */
export const healthRoutes = new Hono<AppEnv>().get("/health", async (c) => {
  const report = await checkHealth({ db: c.env.DB, supabase: () => supabaseFromEnv(c.env) });
  return ok(c, { ...report, version: VERSION }, report.status === "healthy" ? 200 : 503);
});
