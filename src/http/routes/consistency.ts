import { Hono } from "hono";
import { z } from "zod";
import { breakers } from "../../wiring/breakers";
import { queueBindings } from "../../../producers/publish";
import { uuid } from "../../../schemas/fields";
import { entityByName, ENTITIES } from "../../../schemas/registry";
import type { EntityDefinition } from "../../../schemas/define-entity";
import { listRegressionsQuery, resolveRegressionsBody } from "../../../schemas/operator-api";
import { NotFoundError, ValidationError } from "../../../core/errors";
import { numberSetting } from "../../../core/settings";
import { auditStatement } from "../../services/audit";
import { backfillStep, getBackfill } from "../../services/backfill";
import { entityStores } from "../../services/entity-stores";
import { runIntegrityChecks } from "../../services/integrity";
import { DEFAULT_RECONCILE_GRACE_SECONDS, reconcileEntity } from "../../services/reconcile";
import { listRegressions, resolveRegressions } from "../../services/regressions";
import { syncStatus } from "../../services/sync-status";
import { supabaseFromEnv } from "../../wiring/supabase-from-env";
import { adminAuth } from "../admin-auth";
import type { AppEnv } from "../context";
import { ok } from "../envelope";
import { operatorOf } from "../operator";
import { readBody, readQuery } from "../read-json";

const reconcileBody = z.object({
  entity: z.string().optional(),
  repair: z.boolean().default(true),
  maxRows: z.number().int().min(1).max(1_000_000).optional(),
  after: uuid().nullable().optional(),
  until: uuid().nullable().optional(),
  /** Optional here (the cron reconciles without one); kept in the audit line. */
  reason: z.string().trim().min(3).max(500).optional(),
});
const backfillBody = z.object({
  maxRows: z.number().int().min(1).max(100_000).optional(),
  restart: z.boolean().optional(),
  reason: z.string().trim().min(3).max(500).optional(),
});
const limitQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(20), entity: z.string().optional() });

function replicated(name: string): EntityDefinition {
  const entity = entityByName(name);
  if (!entity) throw new NotFoundError(`unknown entity ${name}`);
  if (!entity.replica) throw new ValidationError("NOT_REPLICATED", `${name} has no replica`, undefined, 422);
  return entity;
}

/** GET /v1/sync/status (ADMIN_TOKEN). */
export const syncStatusRoutes = new Hono<AppEnv>()
  .use("*", adminAuth())
  .get("/status", async (c) =>
    ok(c, await syncStatus({ db: c.env.DB, rpc: supabaseFromEnv(c.env), breakers, queues: Object.values(queueBindings(c.env)) })),
  );

/**
 * Reconciliation, backfill, version regressions and integrity checks under /v1/admin
 * (ADMIN_TOKEN). What changes data (a repairing reconcile, a backfill, resolving regressions)
 * names its operator in x-operator and leaves an operator_audit line committed in the same D1
 * batch as the action's own record. A report-only reconcile and the integrity checks change no
 * synced data (they only keep their run's record), so they need no operator.
 */
export const consistencyRoutes = new Hono<AppEnv>()
  .use("*", adminAuth())
  .post("/reconcile", async (c) => {
    const body = await readBody(c, reconcileBody);
    const actor = body.repair ? operatorOf(c) : null;
    const entities = body.entity ? [replicated(body.entity)] : ENTITIES.filter((e) => e.replica);
    const rpc = supabaseFromEnv(c.env);
    const graceSeconds = numberSetting(c.env.RECONCILE_GRACE_SECONDS, DEFAULT_RECONCILE_GRACE_SECONDS);
    const runs = [];
    for (const entity of entities) {
      runs.push(
        await reconcileEntity({ ...entityStores(entity, c.env.DB, rpc), db: c.env.DB }, entity, {
          ...body,
          graceSeconds,
          trigger: "api",
          audit: actor
            ? (run) =>
                auditStatement(c.env.DB, {
                  actor, action: "reconcile", reason: body.reason ?? null, target_type: "entity", target_id: entity.name,
                  selection: { repair: body.repair, after: body.after ?? null, until: body.until ?? null, maxRows: body.maxRows ?? null },
                  result: { run: run.id, status: run.status, repaired: run.repaired, regressed: run.regressed, invalid: run.invalid },
                })
            : undefined,
        }),
      );
    }
    return ok(c, { runs });
  })
  .get("/regressions", async (c) => ok(c, { regressions: await listRegressions(c.env.DB, readQuery(c, listRegressionsQuery)) }))
  .post("/regressions/resolve", async (c) => {
    const actor = operatorOf(c);
    const body = await readBody(c, resolveRegressionsBody);
    const entity = replicated(body.entity);
    const rpc = supabaseFromEnv(c.env);
    const { replicaState } = entityStores(entity, c.env.DB, rpc);
    return ok(c, { resolved: await resolveRegressions({ db: c.env.DB, rpc, replicaState }, entity, { ids: body.ids, actor, reason: body.reason }) });
  })
  .get("/reconcile", async (c) => {
    const q = readQuery(c, limitQuery);
    const { results } = await c.env.DB.prepare(
      "SELECT * FROM sync_reconcile_runs WHERE (?1 IS NULL OR entity = ?1) ORDER BY id DESC LIMIT ?2",
    ).bind(q.entity ?? null, q.limit).all<Record<string, unknown>>();
    return ok(c, { runs: results.map((r) => ({ ...r, examples: JSON.parse(String(r.examples ?? "{}")), problems: JSON.parse(String(r.problems ?? "[]")) })) });
  })
  .post("/backfill/:entity", async (c) => {
    const actor = operatorOf(c);
    const entity = replicated(c.req.param("entity"));
    const body = await readBody(c, backfillBody);
    const rpc = supabaseFromEnv(c.env);
    const stores = entityStores(entity, c.env.DB, rpc);
    const previous = await getBackfill(c.env.DB, entity.name);
    const totalEstimate = previous?.status === "running" && !body.restart ? previous.total_estimate : await countSource(entity, c.env.DB, rpc);
    const audit = (b: { status: string; cursor: string | null; copied: number; applied: number; failed: number }) =>
      auditStatement(c.env.DB, {
        actor, action: "backfill", reason: body.reason ?? null, target_type: "entity", target_id: entity.name,
        selection: { restart: body.restart ?? false, maxRows: body.maxRows ?? null },
        result: { status: b.status, cursor: b.cursor, copied: b.copied, applied: b.applied, failed: b.failed },
      });
    return ok(c, { backfill: await backfillStep({ source: stores.source, target: stores.target, db: c.env.DB }, entity, { ...body, totalEstimate, audit }) });
  })
  .get("/backfill/:entity", async (c) => {
    const entity = replicated(c.req.param("entity"));
    return ok(c, { backfill: await getBackfill(c.env.DB, entity.name) });
  })
  .post("/integrity", async (c) => ok(c, { run: await runIntegrityChecks({ db: c.env.DB, rpc: supabaseFromEnv(c.env) }) }))
  .get("/integrity", async (c) => {
    const q = readQuery(c, limitQuery);
    const { results } = await c.env.DB.prepare("SELECT * FROM sync_integrity_runs ORDER BY id DESC LIMIT ?1").bind(q.limit).all<Record<string, unknown>>();
    return ok(c, { runs: results.map((r) => ({ ...r, findings: JSON.parse(String(r.findings)) })) });
  });

async function countSource(entity: EntityDefinition, db: D1Database, rpc: ReturnType<typeof supabaseFromEnv>): Promise<number | null> {
  if (entity.authority === "d1") return (await db.prepare(`SELECT count(*) AS n FROM "${entity.table}"`).first<{ n: number }>())?.n ?? null;
  const status = await rpc.call<{ rows: Record<string, number> }>("sync_status", { p_cursor_txid: "0", p_cursor_seq: 0 });
  return status.rows[entity.table] ?? null;
}
