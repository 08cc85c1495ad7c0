import { columnsOf, type EntityDefinition } from "../../schemas/define-entity";

/**
 * SQL that applies a whole batch of replica events for one entity in D1. Each statement takes
 * one JSON parameter (D1 allows only 100 bound parameters per statement), so a batch of any size
 * is a fixed number of statements, and all of them run in one `DB.batch()`, which D1 executes
 * as a single transaction.
 */
export interface D1ApplySql {
  /** ?1 = JSON array of row images. */
  upsert: string;
  /**
   * The same upsert, answering (id, version) for every row it inserted or updated: those rows now
   * hold the image it was given. A row it did not write (a newer or equal version or tombstone
   * held) is not in the answer, since SQLite returns nothing for an upsert whose WHERE is false.
   */
  upsertReturning: string;
  /** ?1 = JSON array of {id, version}; ?2 = deletion time. */
  tombstone: string;
  /** ?1 = JSON array of {id, version}. */
  deleteRows: string;
  /** ?1 = JSON array of ids; returns (id, current) where current = max(row version, tombstone version). */
  currentVersions: string;
  /**
   * ?1 = JSON array of {event_id, id, op, version, row}; returns (event_id, current, conflict,
   * updated_at) after an apply. conflict = 1 when the replica holds exactly the event's version
   * but not its state (another image, a tombstone for an upsert, a live row for a delete);
   * updated_at is the held row's, when the row (not a tombstone) is what it holds.
   */
  readBack: string;
}

const cache = new Map<string, D1ApplySql>();

export function d1ApplySql(entity: EntityDefinition): D1ApplySql {
  const hit = cache.get(entity.name);
  if (hit) return hit;
  const t = quote(entity.table);
  const name = literal(entity.name);
  const cols = columnsOf(entity);
  // INSERT INTO "prospects" ("id", …) SELECT json_extract(value, '$.id'), … FROM json_each(?1) j
  // WHERE NOT EXISTS (newer-or-equal tombstone)
  // ON CONFLICT ("id") DO UPDATE SET … WHERE excluded."version" > "prospects"."version"
  const upsert =
    `INSERT INTO ${t} (${cols.map(quote).join(", ")}) ` +
    `SELECT ${cols.map((c) => `json_extract(j.value, ${literal(`$.${c}`)})`).join(", ")} FROM json_each(?1) j ` +
    `WHERE NOT EXISTS (SELECT 1 FROM sync_tombstones s WHERE s.entity = ${name} ` +
    `AND s.id = json_extract(j.value, '$.id') AND s.version >= json_extract(j.value, '$.version')) ` +
    `ON CONFLICT ("id") DO UPDATE SET ${cols
      .filter((c) => c !== "id")
      .map((c) => `${quote(c)} = excluded.${quote(c)}`)
      .join(", ")} ` +
    `WHERE excluded."version" > ${t}."version"`;
  const sql: D1ApplySql = {
    upsert,
    // … RETURNING "id", "version"
    upsertReturning: `${upsert} RETURNING "id", "version"`,
    // The tombstone outlives the row so that an older upsert arriving late cannot resurrect it.
    tombstone:
      `INSERT INTO sync_tombstones (entity, id, version, deleted_at) ` +
      `SELECT ${name}, json_extract(j.value, '$.id'), json_extract(j.value, '$.version'), ?2 FROM json_each(?1) j WHERE true ` +
      `ON CONFLICT (entity, id) DO UPDATE SET version = excluded.version, deleted_at = excluded.deleted_at ` +
      `WHERE excluded.version > sync_tombstones.version`,
    deleteRows:
      `DELETE FROM ${t} WHERE "id" IN (SELECT json_extract(j.value, '$.id') FROM json_each(?1) j) ` +
      `AND EXISTS (SELECT 1 FROM sync_tombstones s WHERE s.entity = ${name} AND s.id = ${t}."id" AND s.version > ${t}."version")`,
    currentVersions:
      `SELECT j.value AS id, max(coalesce((SELECT r."version" FROM ${t} r WHERE r."id" = j.value), 0), ` +
      `coalesce((SELECT s.version FROM sync_tombstones s WHERE s.entity = ${name} AND s.id = j.value), 0)) AS current ` +
      `FROM json_each(?1) j`,
    // SELECT event_id, max(row version, tombstone version) AS current,
    //        CASE op WHEN 'delete' THEN row version = v ELSE current = v AND NOT (row version = v AND "c" IS $.row.c AND …) END
    // The columns are compared with what the upsert above would have stored from the same image,
    // so an image written by this statement always compares equal to itself.
    readBack:
      `SELECT json_extract(j.value, '$.event_id') AS event_id, ` +
      `max(coalesce(r."version", 0), coalesce(s.version, 0)) AS current, ` +
      `CASE WHEN json_extract(j.value, '$.op') = 'delete' THEN coalesce(r."version" = json_extract(j.value, '$.version'), 0) ` +
      `ELSE max(coalesce(r."version", 0), coalesce(s.version, 0)) = json_extract(j.value, '$.version') ` +
      `AND NOT coalesce(r."version" = json_extract(j.value, '$.version') AND ` +
      `${cols.map((c) => `r.${quote(c)} IS json_extract(j.value, ${literal(`$.row.${c}`)})`).join(" AND ")}, 0) END AS conflict, ` +
      `CASE WHEN r."version" >= coalesce(s.version, 0) THEN r."updated_at" END AS updated_at ` +
      `FROM json_each(?1) j LEFT JOIN ${t} r ON r."id" = json_extract(j.value, '$.id') ` +
      `LEFT JOIN sync_tombstones s ON s.entity = ${name} AND s.id = json_extract(j.value, '$.id')`,
  };
  cache.set(entity.name, sql);
  return sql;
}

function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
