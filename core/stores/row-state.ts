import { columnsOf, type Authority, type EntityDefinition } from "../../schemas/define-entity";
import { d1ApplySql } from "./d1-apply-sql";
import type { SupabaseRpc } from "./supabase-rpc";

/** A row as its authoritative store holds it now: the image, or null once deleted (at `version`). */
export interface CurrentRow {
  version: number;
  row: Record<string, unknown> | null;
  /**
   * Set when an outside authority (HubSpot) holds the row in a state our schema refuses: there is
   * no image to publish (`row` is null, which here does NOT mean deleted), only why. Our own stores
   * validate on write, so they never set it.
   */
  invalid?: { code: string; message: string };
}

/**
 * What a store holds for some rows, read in one round trip. Replay uses it twice: `versions` on the
 * replica (is the failed event already superseded?) and `current` on the authoritative store
 * (the "refresh from source" mode).
 */
export interface RowState {
  store: Authority;
  /** Version held per id, row or tombstone; 0 when the store has neither. */
  versions(entity: EntityDefinition, ids: string[]): Promise<Map<string, number>>;
  /** Current state per id; ids the store knows nothing about are left out. */
  current(entity: EntityDefinition, ids: string[]): Promise<Map<string, CurrentRow>>;
}

export function d1RowState(db: D1Database): RowState {
  return {
    store: "d1",
    async versions(entity, ids) {
      const { results } = await db
        .prepare(d1ApplySql(entity).currentVersions)
        .bind(JSON.stringify(ids))
        .all<{ id: string; current: number }>();
      return new Map(results.map((r) => [r.id, Number(r.current)]));
    },
    async current(entity, ids) {
      // SELECT id, version, json_object('id', "id", …) AS image FROM "emails" WHERE id IN (…)
      // A deleted row's version is its delete's, still in the outbox (kept 15 days).
      const image = `json_object(${columnsOf(entity)
        .map((c) => `'${c}', "${c}"`)
        .join(", ")})`;
      const [rows, deletes] = await db.batch<{ id: string; version: number; image: string | null }>([
        db
          .prepare(
            `SELECT id, version, ${image} AS image FROM "${entity.table}" WHERE id IN (SELECT value FROM json_each(?1))`,
          )
          .bind(JSON.stringify(ids)),
        db
          .prepare(
            `SELECT row_id AS id, max(version) AS version, NULL AS image FROM sync_outbox
              WHERE entity = ?1 AND op = 'delete' AND row_id IN (SELECT value FROM json_each(?2)) GROUP BY row_id`,
          )
          .bind(entity.name, JSON.stringify(ids)),
      ]);
      const state = new Map<string, CurrentRow>();
      for (const d of deletes!.results) state.set(d.id, { version: Number(d.version), row: null });
      for (const r of rows!.results)
        state.set(r.id, { version: Number(r.version), row: JSON.parse(r.image!) as Record<string, unknown> });
      return state;
    },
  };
}

export function supabaseRowState(rpc: SupabaseRpc): RowState {
  return {
    store: "supabase",
    async versions(entity, ids) {
      const rows = await rpc.call<Array<{ id: string; version: number }>>("sync_row_versions", {
        p_entity: entity.table,
        p_ids: ids,
      });
      return new Map(rows.map((r) => [r.id, Number(r.version)]));
    },
    async current(entity, ids) {
      const rows = await rpc.call<Array<{ id: string; version: number; row: Record<string, unknown> | null }>>(
        "sync_read_rows",
        {
          p_entity: entity.table,
          p_ids: ids,
        },
      );
      return new Map(rows.map((r) => [r.id, { version: Number(r.version), row: r.row }]));
    },
  };
}
