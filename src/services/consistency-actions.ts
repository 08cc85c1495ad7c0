import type { EntityDefinition } from "../../schemas/define-entity";
import type { BackfillBody, ReconcileBody, ResolveRegressionsBody } from "../../schemas/operator-api";
import { entityByName, reconcilable } from "../../schemas/registry";
import { NotFoundError, ValidationError } from "../../core/errors";
import type { Settings } from "../../core/settings";
import type { SupabaseRpc } from "../../core/stores/supabase-rpc";
import { auditStatement, type Actor } from "./audit";
import { backfillStep, getBackfill, type BackfillState } from "./backfill";
import { entityStores } from "./entity-stores";
import type { Finding } from "./integrity";
import { reconcileEntity, type ReconcileRun } from "./reconcile";
import { resolveRegressions, type ResolveResult } from "./regressions";

/*
 * The operator's consistency actions exactly as the admin API (src/http/routes/consistency.ts),
 * the CLI (through that API) and the console (src/http/console/consistency/) run them: one
 * implementation, so the page cannot do something the API would not, and the audit lines agree.
 */

export interface ConsistencyDeps {
  db: D1Database;
  rpc: SupabaseRpc;
  settings: Pick<Settings, "RECONCILE_GRACE_SECONDS">;
}

/** A registry entity that has a replica, or NOT_FOUND / NOT_REPLICATED. */
export function replicated(name: string): EntityDefinition {
  const entity = entityByName(name);
  if (!entity) throw new NotFoundError(`unknown entity ${name}`);
  if (!entity.replica) throw new ValidationError("NOT_REPLICATED", `${name} has no replica`, undefined, 422);
  return entity;
}

/**
 * Reconciles one entity or every replicated one. A repairing run needs its operator (`actor`) and
 * commits its audit line in the same D1 batch as the run's record; a report-only run (actor null)
 * changes no synced data and writes none.
 */
export async function reconcileEntities(
  deps: ConsistencyDeps,
  body: ReconcileBody,
  actor: Actor | null,
): Promise<ReconcileRun[]> {
  if (body.repair && !actor) throw new Error("a repairing reconcile needs its operator");
  const entities = body.entity ? [replicated(body.entity)] : reconcilable();
  const { db, rpc } = deps;
  const runs: ReconcileRun[] = [];
  for (const entity of entities) {
    runs.push(
      await reconcileEntity({ ...entityStores(entity, db, rpc), db }, entity, {
        ...body,
        graceSeconds: deps.settings.RECONCILE_GRACE_SECONDS,
        trigger: "api",
        audit:
          body.repair && actor
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
  return runs;
}

/** One backfill step (≤ maxRows) of `entityName`, audited with its operator in the step's last D1 batch. */
export async function backfillEntity(
  deps: Pick<ConsistencyDeps, "db" | "rpc">,
  entityName: string,
  body: BackfillBody,
  actor: Actor,
): Promise<BackfillState> {
  const entity = replicated(entityName);
  const { db, rpc } = deps;
  const stores = entityStores(entity, db, rpc);
  const previous = await getBackfill(db, entity.name);
  const totalEstimate =
    previous?.status === "running" && !body.restart ? previous.total_estimate : await countSource(entity, db, rpc);
  const audit = (b: BackfillState) =>
    auditStatement(db, {
      actor,
      action: "backfill",
      reason: body.reason ?? null,
      target_type: "entity",
      target_id: entity.name,
      selection: { restart: body.restart ?? false, maxRows: body.maxRows ?? null },
      result: { status: b.status, cursor: b.cursor, copied: b.copied, applied: b.applied, failed: b.failed },
    });
  return backfillStep({ source: stores.source, target: stores.target, db }, entity, { ...body, totalEstimate, audit });
}

/** Re-stamps an entity's version regressions (services/regressions.ts), audited with its operator. */
export function resolveEntityRegressions(
  deps: Pick<ConsistencyDeps, "db" | "rpc">,
  body: ResolveRegressionsBody,
  actor: Actor,
): Promise<ResolveResult> {
  const entity = replicated(body.entity);
  const { replicaState } = entityStores(entity, deps.db, deps.rpc);
  return resolveRegressions({ ...deps, replicaState }, entity, { ids: body.ids, actor, reason: body.reason });
}

/** A reconciliation run as sync_reconcile_runs keeps it. */
export type ReconcileRunRecord = ReconcileRun & {
  repair: number;
  trigger: "cron" | "api";
  started_at: string;
  finished_at: string;
};
/** An integrity run as sync_integrity_runs keeps it. */
export type IntegrityRunRecord = {
  id: string;
  trigger: string;
  finished_at: string;
  issues: number;
  findings: Finding[];
};

/** Reconciliation runs, newest first: by ids (the ones an operator just started) or by entity. */
export async function listReconcileRuns(
  db: D1Database,
  q: { ids?: string[]; entity?: string; limit: number },
): Promise<ReconcileRunRecord[]> {
  // SELECT * FROM sync_reconcile_runs WHERE (ids IS NULL OR id IN ids) AND (entity IS NULL OR entity = ?) ORDER BY id DESC LIMIT ?
  const { results } = await db
    .prepare(
      `SELECT * FROM sync_reconcile_runs
        WHERE (?1 IS NULL OR id IN (SELECT value FROM json_each(?1))) AND (?2 IS NULL OR entity = ?2)
        ORDER BY id DESC LIMIT ?3`,
    )
    .bind(q.ids ? JSON.stringify(q.ids) : null, q.entity ?? null, q.limit)
    .all<Record<string, unknown>>();
  return results.map(
    (r) =>
      ({
        ...r,
        examples: JSON.parse(String(r.examples ?? "{}")),
        problems: JSON.parse(String(r.problems ?? "[]")),
      }) as unknown as ReconcileRunRecord,
  );
}

/** Integrity runs, newest first (or the one with `id`). */
export async function listIntegrityRuns(
  db: D1Database,
  q: { id?: string; limit: number },
): Promise<IntegrityRunRecord[]> {
  const { results } = await db
    .prepare("SELECT * FROM sync_integrity_runs WHERE (?1 IS NULL OR id = ?1) ORDER BY id DESC LIMIT ?2")
    .bind(q.id ?? null, q.limit)
    .all<Record<string, unknown>>();
  return results.map((r) => ({ ...r, findings: JSON.parse(String(r.findings)) }) as unknown as IntegrityRunRecord);
}

async function countSource(entity: EntityDefinition, db: D1Database, rpc: SupabaseRpc): Promise<number | null> {
  if (entity.authority === "d1")
    return (await db.prepare(`SELECT count(*) AS n FROM "${entity.table}"`).first<{ n: number }>())?.n ?? null;
  const status = await rpc.call<{ rows: Record<string, number> }>("sync_status", {
    p_cursor_txid: "0",
    p_cursor_seq: 0,
  });
  return status.rows[entity.table] ?? null;
}
