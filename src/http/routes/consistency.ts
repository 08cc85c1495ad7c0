import { Hono } from "hono";
import { z } from "zod";
import { breakers } from "../../../consumers/queue-router";
import { queueBindings } from "../../../producers/publish";
import { uuid } from "../../../schemas/fields";
import { entityByName, ENTITIES } from "../../../schemas/registry";
import type { EntityDefinition } from "../../../schemas/define-entity";
import { NotFoundError, ValidationError } from "../../lib/errors";
import { backfillStep, getBackfill } from "../../services/backfill";
import { entityStores } from "../../services/entity-stores";
import { runIntegrityChecks } from "../../services/integrity";
import { reconcileEntity } from "../../services/reconcile";
import { syncStatus } from "../../services/sync-status";
import { supabaseFromEnv } from "../../stores/supabase-from-env";
import { bearerAuth } from "../auth";
import type { AppEnv } from "../context";
import { ok } from "../envelope";
import { readBody, readQuery } from "../read-json";

const reconcileBody = z.object({
  entity: z.string().optional(),
  repair: z.boolean().default(true),
  maxRows: z.number().int().min(1).max(1_000_000).optional(),
  after: uuid().nullable().optional(),
  until: uuid().nullable().optional(),
});
const backfillBody = z.object({ maxRows: z.number().int().min(1).max(100_000).optional(), restart: z.boolean().optional() });
const limitQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(20), entity: z.string().optional() });

function replicated(name: string): EntityDefinition {
  const entity = entityByName(name);
  if (!entity) throw new NotFoundError(`unknown entity ${name}`);
  if (!entity.replica) throw new ValidationError("NOT_REPLICATED", `${name} has no replica`, undefined, 422);
  return entity;
}

/** GET /v1/sync/status (ADMIN_TOKEN). */
export const syncStatusRoutes = new Hono<AppEnv>()
  .use("*", bearerAuth("ADMIN_TOKEN"))
  .get("/status", async (c) =>
    ok(c, await syncStatus({ db: c.env.DB, rpc: supabaseFromEnv(c.env), breakers, queues: Object.values(queueBindings(c.env)) })),
  );

/** Reconciliation, backfill and integrity checks under /v1/admin (ADMIN_TOKEN). */
export const consistencyRoutes = new Hono<AppEnv>()
  .use("*", bearerAuth("ADMIN_TOKEN"))
  .post("/reconcile", async (c) => {
    const body = await readBody(c, reconcileBody);
    const entities = body.entity ? [replicated(body.entity)] : ENTITIES.filter((e) => e.replica);
    const rpc = supabaseFromEnv(c.env);
    const runs = [];
    for (const entity of entities) {
      runs.push(await reconcileEntity({ ...entityStores(entity, c.env.DB, rpc), db: c.env.DB }, entity, { ...body, trigger: "api" }));
    }
    return ok(c, { runs });
  })
  .get("/reconcile", async (c) => {
    const q = readQuery(c, limitQuery);
    const { results } = await c.env.DB.prepare(
      "SELECT * FROM sync_reconcile_runs WHERE (?1 IS NULL OR entity = ?1) ORDER BY id DESC LIMIT ?2",
    ).bind(q.entity ?? null, q.limit).all<Record<string, unknown>>();
    return ok(c, { runs: results.map((r) => ({ ...r, examples: JSON.parse(String(r.examples ?? "{}")), problems: JSON.parse(String(r.problems ?? "[]")) })) });
  })
  .post("/backfill/:entity", async (c) => {
    const entity = replicated(c.req.param("entity"));
    const body = await readBody(c, backfillBody);
    const rpc = supabaseFromEnv(c.env);
    const stores = entityStores(entity, c.env.DB, rpc);
    const previous = await getBackfill(c.env.DB, entity.name);
    const totalEstimate = previous?.status === "running" && !body.restart ? previous.total_estimate : await countSource(entity, c.env.DB, rpc);
    return ok(c, { backfill: await backfillStep({ source: stores.source, target: stores.target, db: c.env.DB }, entity, { ...body, totalEstimate }) });
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
