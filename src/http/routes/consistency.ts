import { Hono } from "hono";
import { z } from "zod";
import {
  backfillBody,
  listRegressionsQuery,
  reconcileBody,
  resolveRegressionsBody,
} from "../../../schemas/operator-api";
import { getBackfill } from "../../services/backfill";
import {
  backfillEntity,
  listIntegrityRuns,
  listReconcileRuns,
  reconcileEntities,
  replicated,
  resolveEntityRegressions,
} from "../../services/consistency-actions";
import { runIntegrityChecks } from "../../services/integrity";
import { listRegressions } from "../../services/regressions";
import { syncStatus } from "../../services/sync-status";
import { adminAuth } from "../admin-auth";
import type { AppEnv } from "../context";
import { ok } from "../envelope";
import { operatorOf } from "../operator";
import { readBody, readQuery } from "../read-json";

const limitQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  entity: z.string().optional(),
});

/** GET /v1/sync/status (ADMIN_TOKEN). */
export const syncStatusRoutes = new Hono<AppEnv>().use("*", adminAuth()).get("/status", async (c) => {
  const { db, supabase, breakers, queues } = c.get("deps");
  return ok(c, await syncStatus({ db, rpc: supabase(), breakers, queues: Object.values(queues) }));
});

/**
 * Reconciliation, backfill, version regressions and integrity checks under /v1/admin
 * (ADMIN_TOKEN). What changes data (a repairing reconcile, a backfill, resolving regressions)
 * names its operator in x-operator and leaves an operator_audit line committed in the same D1
 * batch as the action's own record. A report-only reconcile and the integrity checks change no
 * synced data (they only keep their run's record), so they need no operator. The actions
 * themselves are src/services/consistency-actions.ts, shared with the console.
 */
export const consistencyRoutes = new Hono<AppEnv>()
  .use("*", adminAuth())
  .post("/reconcile", async (c) => {
    const body = await readBody(c, reconcileBody);
    const actor = body.repair ? operatorOf(c) : null;
    const { db, supabase, settings } = c.get("deps");
    return ok(c, { runs: await reconcileEntities({ db, rpc: supabase(), settings }, body, actor) });
  })
  .get("/regressions", async (c) =>
    ok(c, { regressions: await listRegressions(c.get("deps").db, readQuery(c, listRegressionsQuery)) }),
  )
  .post("/regressions/resolve", async (c) => {
    const actor = operatorOf(c);
    const body = await readBody(c, resolveRegressionsBody);
    const { db, supabase } = c.get("deps");
    return ok(c, { resolved: await resolveEntityRegressions({ db, rpc: supabase() }, body, actor) });
  })
  .get("/reconcile", async (c) => {
    const q = readQuery(c, limitQuery);
    return ok(c, { runs: await listReconcileRuns(c.get("deps").db, q) });
  })
  .post("/backfill/:entity", async (c) => {
    const actor = operatorOf(c);
    replicated(c.req.param("entity"));
    const body = await readBody(c, backfillBody);
    const { db, supabase } = c.get("deps");
    return ok(c, { backfill: await backfillEntity({ db, rpc: supabase() }, c.req.param("entity"), body, actor) });
  })
  .get("/backfill/:entity", async (c) => {
    const entity = replicated(c.req.param("entity"));
    return ok(c, { backfill: await getBackfill(c.get("deps").db, entity.name) });
  })
  .post("/integrity", async (c) =>
    ok(c, { run: await runIntegrityChecks({ db: c.get("deps").db, rpc: c.get("deps").supabase() }) }),
  )
  .get("/integrity", async (c) => {
    const q = readQuery(c, limitQuery);
    return ok(c, { runs: await listIntegrityRuns(c.get("deps").db, { limit: q.limit }) });
  });
