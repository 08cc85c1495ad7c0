import { Hono } from "hono";
import { z } from "zod";
import { uuid } from "../../../schemas/fields";
import { entityByName, reconcilable } from "../../../schemas/registry";
import type { EntityDefinition } from "../../../schemas/define-entity";
import { listRegressionsQuery, resolveRegressionsBody } from "../../../schemas/operator-api";
import { NotFoundError, ValidationError } from "../../../core/errors";
import type { SupabaseRpc } from "../../../core/stores/supabase-rpc";
import { auditStatement } from "../../services/audit";
import { backfillStep, getBackfill } from "../../services/backfill";
import { entityStores } from "../../services/entity-stores";
import { runIntegrityChecks } from "../../services/integrity";
import { reconcileEntity } from "../../services/reconcile";
import { listRegressions, resolveRegressions } from "../../services/regressions";
import { syncStatus } from "../../services/sync-status";
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
const limitQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  entity: z.string().optional(),
});

function replicated(name: string): EntityDefinition {
  const entity = entityByName(name);
  if (!entity) throw new NotFoundError(`unknown entity ${name}`);
  if (!entity.replica) throw new ValidationError("NOT_REPLICATED", `${name} has no replica`, undefined, 422);
  return entity;
}

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
 * synced data (they only keep their run's record), so they need no operator.
 */
export const consistencyRoutes = new Hono<AppEnv>()
  .use("*", adminAuth())
  .post("/reconcile", async (c) => {
    const body = await readBody(c, reconcileBody);
    const actor = body.repair ? operatorOf(c) : null;
    const entities = body.entity ? [replicated(body.entity)] : reconcilable();
    const { db, supabase, settings } = c.get("deps");
    const rpc = supabase();
    const runs = [];
    for (const entity of entities) {
      runs.push(
        await reconcileEntity({ ...entityStores(entity, db, rpc), db }, entity, {
          ...body,
          graceSeconds: settings.RECONCILE_GRACE_SECONDS,
          trigger: "api",
          audit: actor
            ? (run) =>
                auditStatement(db, {
                  actor,
                  action: "reconcile",
                  reason: body.reason ?? null,
                  target_type: "entity",
                  target_id: entity.name,
                  selection: {
                    repair: body.repair,
                    after: body.after ?? null,
                    until: body.until ?? null,
                    maxRows: body.maxRows ?? null,
                  },
                  result: {
                    run: run.id,
                    status: run.status,
                    repaired: run.repaired,
                    regressed: run.regressed,
                    invalid: run.invalid,
                  },
                })
            : undefined,
        }),
      );
    }
    return ok(c, { runs });
  })
  .get("/regressions", async (c) =>
    ok(c, { regressions: await listRegressions(c.get("deps").db, readQuery(c, listRegressionsQuery)) }),
  )
  .post("/regressions/resolve", async (c) => {
    const actor = operatorOf(c);
    const body = await readBody(c, resolveRegressionsBody);
    const entity = replicated(body.entity);
    const { db, supabase } = c.get("deps");
    const rpc = supabase();
    const { replicaState } = entityStores(entity, db, rpc);
    return ok(c, {
      resolved: await resolveRegressions({ db, rpc, replicaState }, entity, {
        ids: body.ids,
        actor,
        reason: body.reason,
      }),
    });
  })
  .get("/reconcile", async (c) => {
    const q = readQuery(c, limitQuery);
    const { results } = await c
      .get("deps")
      .db.prepare("SELECT * FROM sync_reconcile_runs WHERE (?1 IS NULL OR entity = ?1) ORDER BY id DESC LIMIT ?2")
      .bind(q.entity ?? null, q.limit)
      .all<Record<string, unknown>>();
    return ok(c, {
      runs: results.map((r) => ({
        ...r,
        examples: JSON.parse(String(r.examples ?? "{}")),
        problems: JSON.parse(String(r.problems ?? "[]")),
      })),
    });
  })
  .post("/backfill/:entity", async (c) => {
    const actor = operatorOf(c);
    const entity = replicated(c.req.param("entity"));
    const body = await readBody(c, backfillBody);
    const { db, supabase } = c.get("deps");
    const rpc = supabase();
    const stores = entityStores(entity, db, rpc);
    const previous = await getBackfill(db, entity.name);
    const totalEstimate =
      previous?.status === "running" && !body.restart ? previous.total_estimate : await countSource(entity, db, rpc);
    const audit = (b: { status: string; cursor: string | null; copied: number; applied: number; failed: number }) =>
      auditStatement(db, {
        actor,
        action: "backfill",
        reason: body.reason ?? null,
        target_type: "entity",
        target_id: entity.name,
        selection: { restart: body.restart ?? false, maxRows: body.maxRows ?? null },
        result: { status: b.status, cursor: b.cursor, copied: b.copied, applied: b.applied, failed: b.failed },
      });
    return ok(c, {
      backfill: await backfillStep({ source: stores.source, target: stores.target, db }, entity, {
        ...body,
        totalEstimate,
        audit,
      }),
    });
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
    const { results } = await c
      .get("deps")
      .db.prepare("SELECT * FROM sync_integrity_runs ORDER BY id DESC LIMIT ?1")
      .bind(q.limit)
      .all<Record<string, unknown>>();
    return ok(c, { runs: results.map((r) => ({ ...r, findings: JSON.parse(String(r.findings)) })) });
  });

async function countSource(entity: EntityDefinition, db: D1Database, rpc: SupabaseRpc): Promise<number | null> {
  if (entity.authority === "d1")
    return (await db.prepare(`SELECT count(*) AS n FROM "${entity.table}"`).first<{ n: number }>())?.n ?? null;
  const status = await rpc.call<{ rows: Record<string, number> }>("sync_status", {
    p_cursor_txid: "0",
    p_cursor_seq: 0,
  });
  return status.rows[entity.table] ?? null;
}
