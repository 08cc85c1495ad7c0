import { entityByName } from "../../schemas/registry";
import type { Store } from "../../schemas/define-entity";
import { jsonChunks } from "../batching/json-chunks";
import { classifyD1Error } from "./d1-errors";
import type { SupabaseRpc } from "./supabase-rpc";

type Row = Record<string, unknown>;

/**
 * Reads a synced table in key order, one bounded page at a time: rows with after < id <= until
 * (null = open), at most `limit`. Backfill and reconciliation walk both stores with it.
 */
export interface PageReader {
  store: Store;
  read(entity: string, after: string | null, until: string | null, limit: number): Promise<Row[]>;
}

/**
 * Makes a replica row equal to its source image, compare-and-set on the version it was seen at
 * (null = absent). Both stores also refuse to lower a version and to resurrect a row whose
 * tombstone is at the image's version or newer, whatever `expected` says.
 */
export type Repair =
  | { op: "put"; id: string; expected: number | null; row: Row }
  | { op: "remove"; id: string; expected: number; row: null };

export interface Repairer {
  /** Returns how many rows changed; the rest had moved on (a live event) and are left alone. */
  repair(entity: string, repairs: Repair[]): Promise<number>;
}

export function d1Pages(db: D1Database): PageReader {
  return {
    store: "d1",
    async read(entity, after, until, limit) {
      const table = entityByName(entity)!.table;
      const { results } = await db
        .prepare(
          `SELECT * FROM "${table}" WHERE (?1 IS NULL OR id > ?1) AND (?2 IS NULL OR id <= ?2) ORDER BY id LIMIT ?3`,
        )
        .bind(after, until, limit)
        .all<Row>();
      return results;
    },
  };
}

export function supabasePages(rpc: SupabaseRpc): PageReader {
  return {
    store: "supabase",
    read: (entity, after, until, limit) =>
      rpc.call<Row[]>("sync_read_page", {
        p_entity: entityByName(entity)!.table,
        p_after: after,
        p_until: until,
        p_limit: limit,
      }),
  };
}

export function supabaseRepairer(rpc: SupabaseRpc): Repairer {
  return {
    repair: (entity, repairs) =>
      rpc.call<number>("sync_repair_batch", { p_entity: entityByName(entity)!.table, p_repairs: repairs }),
  };
}

/**
 * D1 repairs, one JSON parameter per statement, all in one batch (one transaction); each list is
 * cut into chunks under D1's 2,000,000-byte limit per bound string.
 *   put:    INSERT … SELECT … FROM json_each(?1) j WHERE no tombstone at the image's version or newer
 *           ON CONFLICT(id) DO UPDATE … WHERE version = expected AND excluded.version >= version
 *   remove: DELETE … WHERE id/version match, after recording a tombstone at that version
 */
export function d1Repairer(db: D1Database): Repairer {
  return {
    async repair(entity, repairs) {
      const def = entityByName(entity)!;
      const cols = Object.keys(def.row.shape);
      const t = `"${def.table}"`;
      const name = `'${def.name.replaceAll("'", "''")}'`;
      const puts = repairs.filter((r) => r.op === "put").map((r) => ({ ...r.row, __expected: r.expected }));
      const removes = repairs.filter((r) => r.op === "remove").map((r) => ({ id: r.id, expected: r.expected }));
      const putSql =
        `INSERT INTO ${t} (${cols.map((c) => `"${c}"`).join(", ")}) ` +
        `SELECT ${cols.map((c) => `json_extract(j.value, '$.${c}')`).join(", ")} FROM json_each(?1) j ` +
        `WHERE NOT EXISTS (SELECT 1 FROM sync_tombstones s WHERE s.entity = ${name} AND s.id = json_extract(j.value, '$.id') ` +
        `AND s.version >= json_extract(j.value, '$.version')) ` +
        `ON CONFLICT ("id") DO UPDATE SET ${cols
          .filter((c) => c !== "id")
          .map((c) => `"${c}" = excluded."${c}"`)
          .join(", ")} ` +
        `WHERE ${t}."version" = (SELECT json_extract(k.value, '$.__expected') FROM json_each(?1) k WHERE json_extract(k.value, '$.id') = ${t}."id") ` +
        `AND excluded."version" >= ${t}."version"`;
      const tombstoneSql =
        `INSERT INTO sync_tombstones (entity, id, version, deleted_at) ` +
        `SELECT ${name}, r."id", r."version", strftime('%Y-%m-%dT%H:%M:%fZ','now') FROM ${t} r JOIN json_each(?1) j ` +
        `ON json_extract(j.value, '$.id') = r."id" AND json_extract(j.value, '$.expected') = r."version" WHERE true ` +
        `ON CONFLICT (entity, id) DO UPDATE SET version = max(sync_tombstones.version, excluded.version), deleted_at = excluded.deleted_at`;
      const deleteSql =
        `DELETE FROM ${t} WHERE EXISTS (SELECT 1 FROM json_each(?1) j WHERE json_extract(j.value, '$.id') = ${t}."id" ` +
        `AND json_extract(j.value, '$.expected') = ${t}."version")`;
      const statements: D1PreparedStatement[] = [];
      // Positions of the statements whose changes count: puts and deletes (a tombstone's count equals its delete's).
      const counted: number[] = [];
      for (const chunk of jsonChunks(puts)) {
        counted.push(statements.length);
        statements.push(db.prepare(putSql).bind(JSON.stringify(chunk)));
      }
      for (const chunk of jsonChunks(removes)) {
        const json = JSON.stringify(chunk);
        statements.push(db.prepare(tombstoneSql).bind(json));
        counted.push(statements.length);
        statements.push(db.prepare(deleteSql).bind(json));
      }
      if (!statements.length) return 0;
      let results: D1Result[];
      try {
        results = await db.batch(statements);
      } catch (error) {
        throw classifyD1Error(error);
      }
      return counted.reduce((sum, i) => sum + results[i]!.meta.changes, 0);
    },
  };
}
