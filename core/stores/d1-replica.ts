import type { Held, ReplicaTarget } from "../apply-batch";
import type { ValidEvent } from "../validate-event";
import { entityByName } from "../../schemas/registry";
import { jsonChunks } from "../batching/json-chunks";
import { utcNow } from "../utc";
import { d1ApplySql } from "./d1-apply-sql";
import { classifyD1Error } from "./d1-errors";

/**
 * D1 as a replica: per entity an upsert, a tombstone + delete pair and a read-back, every entity of
 * the batch in one `DB.batch()` — one round trip, one transaction. Each statement binds one JSON
 * array, cut into chunks that stay under D1's 2,000,000-byte limit per bound string (a chunk is
 * one more statement of the same batch, so still one transaction).
 */
export function d1Replica(db: D1Database): ReplicaTarget {
  return {
    store: "d1",
    async apply(events: ValidEvent[]) {
      const groups = groupByEntity(events);
      const statements: D1PreparedStatement[] = [];
      const readBacks: number[] = [];
      const now = utcNow();
      for (const [name, group] of groups) {
        const sql = d1ApplySql(entityByName(name)!);
        const upserts = group.filter((e) => e.event.op === "upsert").map((e) => e.row);
        const deletes = group
          .filter((e) => e.event.op === "delete")
          .map((e) => ({ id: e.event.key.id, version: e.event.version }));
        for (const chunk of jsonChunks(upserts)) statements.push(db.prepare(sql.upsert).bind(JSON.stringify(chunk)));
        for (const chunk of jsonChunks(deletes)) {
          const json = JSON.stringify(chunk);
          statements.push(db.prepare(sql.tombstone).bind(json, now), db.prepare(sql.deleteRows).bind(json));
        }
        const probes = group.map((e) => ({
          event_id: e.event.id,
          id: e.event.key.id,
          op: e.event.op,
          version: e.event.version,
          row: e.row,
        }));
        for (const chunk of jsonChunks(probes)) {
          readBacks.push(statements.length);
          statements.push(db.prepare(sql.readBack).bind(JSON.stringify(chunk)));
        }
      }
      let results: D1Result[];
      try {
        results = await db.batch(statements);
      } catch (error) {
        throw classifyD1Error(error);
      }
      const held = new Map<string, Held>();
      for (const position of readBacks) {
        for (const r of results[position]!.results as Array<{
          event_id: string;
          current: number;
          conflict: number;
          updated_at: string | null;
        }>) {
          held.set(r.event_id, {
            version: Number(r.current),
            conflict: Number(r.conflict) === 1,
            updatedAt: r.updated_at,
          });
        }
      }
      return held;
    },
  };
}

export function groupByEntity(events: ValidEvent[]): Map<string, ValidEvent[]> {
  const groups = new Map<string, ValidEvent[]>();
  for (const e of events) {
    const list = groups.get(e.event.entity);
    if (list) list.push(e);
    else groups.set(e.event.entity, [e]);
  }
  return groups;
}
