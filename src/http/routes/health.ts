import { Hono } from "hono";
import { CHANGE_LOG_CURSOR } from "../../../producers/change-log-sweep";
import { checkHealth } from "../../services/health";
import { adminAuth } from "../admin-auth";
import type { AppEnv } from "../context";
import { ok } from "../envelope";

export const VERSION = "0.1.0";

/**
 * GET /health: public liveness for load balancers and uptime checks. 200 when both stores answer,
 * 503 when either does not, and nothing more: a store's error text names hosts and roles, which
 * is for operators only.
 */
export const healthRoutes = new Hono<AppEnv>().get("/health", async (c) => {
  const report = await checkHealth(c.get("deps"));
  return ok(c, { status: report.status, version: VERSION }, report.status === "healthy" ? 200 : 503);
});

/**
 * GET /v1/admin/health (ADMIN_TOKEN): each store's probe with its latency and error, the circuit
 * breakers, the age of the last change-log sweep and the queue backlog where the runtime reports it.
 */
export const adminHealthRoutes = new Hono<AppEnv>().use("*", adminAuth()).get("/", async (c) => {
  const deps = c.get("deps");
  const report = await checkHealth(deps);
  const sweep = await deps.db
    .prepare("SELECT last_run_at FROM sync_cursors WHERE name = ?1")
    .bind(CHANGE_LOG_CURSOR)
    .first<{ last_run_at: string }>()
    .catch(() => null);
  const backlog = async (q: Queue) => (await q.metrics().catch(() => null))?.backlogCount ?? null;
  const [toD1, toSupabase] = await Promise.all([backlog(deps.queues["to-d1"]), backlog(deps.queues["to-supabase"])]);
  return ok(
    c,
    {
      ...report,
      version: VERSION,
      circuits: { d1: deps.breakers.d1.state, supabase: deps.breakers.supabase.state },
      lastSweep: sweep
        ? { at: sweep.last_run_at, ageSeconds: Math.round((Date.now() - Date.parse(sweep.last_run_at)) / 1000) }
        : null,
      queueBacklog: { "to-d1": toD1, "to-supabase": toSupabase },
    },
    report.status === "healthy" ? 200 : 503,
  );
});
