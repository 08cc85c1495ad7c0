import type { ReplicaTarget } from "../../consumers/apply-batch";
import type { ValidEvent } from "../../consumers/validate-event";
import { entityByName } from "../../schemas/registry";
import { utcNow } from "../lib/utc";
import { d1ApplySql } from "./d1-apply-sql";
import { classifyD1Error } from "./d1-errors";

/**
 * D1 as a replica: per entity four statements (upsert, tombstone, delete, read back versions),
 * every entity of the batch in one `DB.batch()` — one round trip, one transaction.
 */
export function d1Replica(db: D1Database): ReplicaTarget {
  return {
    store: "d1",
    async apply(events: ValidEvent[]) {
      const groups = groupByEntity(events);
      const statements: D1PreparedStatement[] = [];
      const readBacks: Array<{ position: number; events: ValidEvent[] }> = [];
      const now = utcNow();
      for (const [name, group] of groups) {
        const sql = d1ApplySql(entityByName(name)!);
        const upserts = group.filter((e) => e.event.op === "upsert").map((e) => e.row);
        const deletes = group.filter((e) => e.event.op === "delete").map((e) => ({ id: e.event.key.id, version: e.event.version }));
        if (upserts.length) statements.push(db.prepare(sql.upsert).bind(JSON.stringify(upserts)));
        if (deletes.length) {
          const json = JSON.stringify(deletes);
          statements.push(db.prepare(sql.tombstone).bind(json, now), db.prepare(sql.deleteRows).bind(json));
        }
        readBacks.push({ position: statements.length, events: group });
        statements.push(db.prepare(sql.currentVersions).bind(JSON.stringify(group.map((e) => e.event.key.id))));
      }
      let results: D1Result[];
      try {
        results = await db.batch(statements);
      } catch (error) {
        throw classifyD1Error(error);
      }
      const current = new Map<string, number>();
      for (const { position, events: group } of readBacks) {
        const byId = new Map((results[position]!.results as Array<{ id: string; current: number }>).map((r) => [r.id, r.current]));
        for (const e of group) current.set(e.event.id, byId.get(e.event.key.id) ?? 0);
      }
      return current;
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
