import type { Held, ReplicaTarget } from "../apply-batch";
import type { ValidEvent } from "../validate-event";
import { entityByName } from "../../schemas/registry";
import { jsonChunks } from "../batching/json-chunks";
import { utcNow } from "../utc";
import { d1ApplySql, type D1ApplySql } from "./d1-apply-sql";
import { classifyD1Error } from "./d1-errors";

/**
 * D1 as a replica: per entity an upsert, a tombstone + delete pair, every entity of the batch in
 * one `DB.batch()` — one round trip, one transaction. Each statement binds one JSON array, cut
 * into chunks that stay under D1's 2,000,000-byte limit per bound string (a chunk is one more
 * statement of the same batch, so still one transaction).
 *
 * What the replica holds afterwards (applied, stale, a conflict at the same version, a regression)
 * comes from the upsert's RETURNING for the rows it wrote, which is the common case, and from the
 * read-back for the rest. The read-back used to run for every event and cost about half the
 * upsert again.
 */
export function d1Replica(db: D1Database): ReplicaTarget {
  return {
    store: "d1",
    async apply(events: ValidEvent[]) {
      const groups = groupByEntity(events);
      const statements: D1PreparedStatement[] = [];
      const returning: Array<{ position: number; byId: Map<string, ValidEvent> }> = [];
      const readBacks: number[] = [];
      const now = utcNow();
      for (const [name, group] of groups) {
        const sql = d1ApplySql(entityByName(name)!);
        const single = idsNamedOnce(group);
        const upserts = group.filter((e) => e.event.op === "upsert");
        const byId = new Map(upserts.filter((e) => single.has(e.event.key.id)).map((e) => [e.event.key.id, e]));
        for (const chunk of jsonChunks(upserts.map((e) => e.row))) {
          returning.push({ position: statements.length, byId });
          statements.push(db.prepare(sql.upsertReturning).bind(JSON.stringify(chunk)));
        }
        const deletes = group
          .filter((e) => e.event.op === "delete")
          .map((e) => ({ id: e.event.key.id, version: e.event.version }));
        for (const chunk of jsonChunks(deletes)) {
          const json = JSON.stringify(chunk);
          statements.push(db.prepare(sql.tombstone).bind(json, now), db.prepare(sql.deleteRows).bind(json));
        }
        // Read back inside the transaction what RETURNING cannot answer, known before it runs:
        // deletes, and rows this call names twice (a later image of the same row could overwrite
        // an earlier one within the statement; applyBatch never sends that, other callers might).
        const inTxn = group.filter((e) => e.event.op === "delete" || !single.has(e.event.key.id));
        for (const s of readBackStatements(db, sql, inTxn)) {
          readBacks.push(statements.length);
          statements.push(s);
        }
      }
      const results = await run(db, statements);
      const held = new Map<string, Held>();
      for (const position of readBacks) readInto(held, results[position]!);
      for (const { position, byId } of returning) {
        for (const r of results[position]!.results as Array<{ id: string; version: number }>) {
          const event = byId.get(String(r.id));
          // Written by this statement from this image: the read-back would find exactly it.
          if (event && Number(r.version) === event.event.version)
            held.set(event.event.id, { version: event.event.version, conflict: false });
        }
      }
      // The rest are upserts the statement did not write: stale, a conflict at the same version,
      // a regression, or (if something is wrong) not applied. Since they wrote nothing, reading
      // them after the commit answers what the transaction would have: versions only grow, so a
      // newer write landing in between makes the event stale, as if it had been delivered after
      // that write, which the queue is free to do. Rare in steady state: one more round trip then.
      const unanswered = events.filter((e) => e.event.op === "upsert" && !held.has(e.event.id));
      if (unanswered.length) {
        const late: D1PreparedStatement[] = [];
        for (const [name, group] of groupByEntity(unanswered))
          late.push(...readBackStatements(db, d1ApplySql(entityByName(name)!), group));
        for (const result of await run(db, late)) readInto(held, result);
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

/** Ids that exactly one event of `group` (one entity) names. */
function idsNamedOnce(group: ValidEvent[]): Set<string> {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const e of group) (seen.has(e.event.key.id) ? twice : seen).add(e.event.key.id);
  for (const id of twice) seen.delete(id);
  return seen;
}

/** The read-back of `events` (one entity), chunked like the writes. */
export function readBackStatements(db: D1Database, sql: D1ApplySql, events: ValidEvent[]): D1PreparedStatement[] {
  const probes = events.map((e) => ({
    event_id: e.event.id,
    id: e.event.key.id,
    op: e.event.op,
    version: e.event.version,
    row: e.row,
  }));
  return jsonChunks(probes).map((chunk) => db.prepare(sql.readBack).bind(JSON.stringify(chunk)));
}

/** What a read-back answered, per event id. */
export function readInto(held: Map<string, Held>, result: D1Result): void {
  for (const r of result.results as Array<{
    event_id: string;
    current: number;
    conflict: number;
    updated_at: string | null;
  }>) {
    held.set(r.event_id, { version: Number(r.current), conflict: Number(r.conflict) === 1, updatedAt: r.updated_at });
  }
}

async function run(db: D1Database, statements: D1PreparedStatement[]): Promise<D1Result[]> {
  try {
    return await db.batch(statements);
  } catch (error) {
    throw classifyD1Error(error);
  }
}
