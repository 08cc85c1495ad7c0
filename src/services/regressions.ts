import type { z } from "zod";
import type { EntityDefinition } from "../../schemas/define-entity";
import { entityByName } from "../../schemas/registry";
import type { listRegressionsQuery, Regression } from "../../schemas/operator-api";
import { ValidationError } from "../../core/errors";
import { utcNow } from "../../core/utc";
import type { RowState } from "../../core/stores/row-state";
import type { SupabaseRpc } from "../../core/stores/supabase-rpc";
import { auditStatement, type Actor } from "./audit";

/**
 * Version regressions: authoritative rows whose version is below what the replica holds (a newer
 * row, or a tombstone at or above it). After a point-in-time restore of Supabase every such row is
 * stuck: its next changes carry versions the replica has already seen, so they are ignored as
 * stale until the source happens to count past the replica's version (up to the 15 days a
 * tombstone is kept, or never for a row). Reconciliation finds them and records them here
 * (never "repairs" them: writing the replica down to the older source would lose the tombstone's
 * protection and roll back what the replica saw; leaving them silently would lose every change).
 *
 * Resolving is an operator's decision, logged: the source rows are re-stamped above
 * max(replica row, replica tombstone) by public.sync_restamp, content unchanged. That is a new
 * change at the source (change log and webhook), so it flows to the replica like any other, and so
 * does every later one. Only Supabase-authoritative entities can be re-stamped: the D1 authority
 * (emails) allows a version to grow by exactly one per write (emails_require_version_bump).
 */
export async function listRegressions(db: D1Database, q: z.infer<typeof listRegressionsQuery>): Promise<Regression[]> {
  const { results } = await db
    .prepare(
      `SELECT * FROM sync_regressions WHERE status = ?1 AND (?2 IS NULL OR entity = ?2) ORDER BY entity, id LIMIT ?3`,
    )
    .bind(q.status, q.entity ?? null, q.limit)
    .all<Regression>();
  return results;
}

/** Entities with an open regression that a re-stamp can resolve (their source is Supabase). */
export async function restampableEntities(db: D1Database): Promise<string[]> {
  const { results } = await db
    .prepare("SELECT DISTINCT entity FROM sync_regressions WHERE status = 'open' ORDER BY entity")
    .all<{ entity: string }>();
  return results.map((r) => r.entity).filter((name) => entityByName(name)?.authority === "supabase");
}

export interface ResolveResult {
  entity: string;
  /** Source rows raised above the replica, with their new version. */
  restamped: Array<{ id: string; version: number }>;
  /** Selected rows the source did not need to raise (a live change already passed the replica, or the source lacks the row). */
  unchanged: string[];
}

export async function resolveRegressions(
  deps: { db: D1Database; rpc: SupabaseRpc; replicaState: RowState },
  entity: EntityDefinition,
  req: { ids?: string[]; actor: Actor; reason: string },
): Promise<ResolveResult> {
  if (entity.authority !== "supabase") {
    throw new ValidationError(
      "RESTAMP_UNSUPPORTED",
      `${entity.name} is authoritative in ${entity.authority}, whose versions grow by one per write; a regression there is resolved by writing the rows again`,
      undefined,
      422,
    );
  }
  const ids =
    req.ids ??
    (
      await deps.db
        .prepare("SELECT id FROM sync_regressions WHERE entity = ?1 AND status = 'open' ORDER BY id LIMIT 1000")
        .bind(entity.name)
        .all<{ id: string }>()
    ).results.map((r) => r.id);
  const result: ResolveResult = { entity: entity.name, restamped: [], unchanged: [] };
  if (ids.length) {
    // What the replica holds now, not when the regression was found: tombstones and rows may have moved.
    const held = await deps.replicaState.versions(entity, ids);
    result.restamped = await deps.rpc.call<Array<{ id: string; version: number }>>("sync_restamp", {
      p_entity: entity.table,
      p_rows: ids.map((id) => ({ id, above: held.get(id) ?? 0 })),
    });
    const raised = new Set(result.restamped.map((r) => r.id));
    result.unchanged = ids.filter((id) => !raised.has(id));
  }
  const now = utcNow();
  // The records and the audit line commit together. The re-stamp itself is in Supabase and has
  // already committed; if this batch failed, running the command again re-stamps nothing more
  // (the rows are above the replica now) and records the resolution then.
  await deps.db.batch([
    deps.db
      .prepare(
        `UPDATE sync_regressions SET status = 'resolved', resolved_at = ?2, resolved_by = ?3,
                resolved_version = (SELECT json_extract(r.value, '$.version') FROM json_each(?4) r WHERE json_extract(r.value, '$.id') = sync_regressions.id)
          WHERE entity = ?1 AND id IN (SELECT value FROM json_each(?5))`,
      )
      .bind(entity.name, now, req.actor.name, JSON.stringify(result.restamped), JSON.stringify(ids)),
    auditStatement(deps.db, {
      actor: req.actor,
      action: "resolve-regression",
      reason: req.reason,
      target_type: "entity",
      target_id: entity.name,
      selection: { ids: req.ids ?? "all open", count: ids.length },
      result: {
        restamped: result.restamped.length,
        unchanged: result.unchanged.length,
        versions: result.restamped.slice(0, 20),
      },
    }),
  ]);
  return result;
}
