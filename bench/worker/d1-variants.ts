import type { ReplicaTarget } from "../../core/apply-batch";
import { validateEvent, type ValidEvent } from "../../core/validate-event";
import { columnsOf } from "../../schemas/define-entity";
import { prospects } from "../../schemas/entities/prospects";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { d1ApplySql } from "../../core/stores/d1-apply-sql";
import { d1Replica } from "../../core/stores/d1-replica";
import { prospectRow, upsertEvent } from "./rows";
import { syntheticBatch } from "./synthetic-batch";

/**
 * The ways of writing the same prospect rows into D1 that the benchmark compares. Each variant
 * gets the rows of one batch and writes them; building the rows is not timed, everything the
 * variant does with them is (serialising, binding, validating, round trips).
 */
const COLS = columnsOf(prospects);
const SET = COLS.filter((c) => c !== "id")
  .map((c) => `${c} = excluded.${c}`)
  .join(", ");
const GUARD = "WHERE excluded.version > prospects.version";

/** D1 wants 0/1 for booleans (the seeds bind `x ? 1 : 0`). */
const bindable = (row: Record<string, unknown>) =>
  COLS.map((c) => (typeof row[c] === "boolean" ? (row[c] ? 1 : 0) : row[c]));

// Seed 001's upsertProspectToD1 (plus the version column, which our replica table requires, and
// the same version guard every variant applies, so that all variants do the same work per row).
const PER_ROW_SQL =
  `INSERT INTO prospects (${COLS.join(", ")}) VALUES (${COLS.map(() => "?").join(", ")}) ` +
  `ON CONFLICT(id) DO UPDATE SET ${SET} ${GUARD}`;

// The bare bulk statement: one JSON parameter, no tombstone check, no read-back.
const RAW_JSON_SQL =
  `INSERT INTO prospects (${COLS.join(", ")}) SELECT ${COLS.map((c) => `json_extract(j.value, '$.${c}')`).join(", ")} ` +
  `FROM json_each(?1) j WHERE true ON CONFLICT(id) DO UPDATE SET ${SET} ${GUARD}`;

// The same, with each element converted to SQLite's binary JSON once (SQLite ≥ 3.45), so the 19
// json_extract calls per row do not each re-parse the row's text.
const RAW_JSONB_SQL =
  `INSERT INTO prospects (${COLS.join(", ")}) SELECT ${COLS.map((c) => `json_extract(j.v, '$.${c}')`).join(", ")} ` +
  `FROM (SELECT jsonb(value) AS v FROM json_each(?1)) j WHERE true ON CONFLICT(id) DO UPDATE SET ${SET} ${GUARD}`;

// Multi-row VALUES: D1 allows 100 bound parameters per statement, so 5 rows of 19 columns each.
const ROWS_PER_VALUES = Math.floor(100 / COLS.length);
const valuesSql = (n: number) =>
  `INSERT INTO prospects (${COLS.join(", ")}) VALUES ${Array.from({ length: n }, () => `(${COLS.map(() => "?").join(", ")})`).join(", ")} ` +
  `ON CONFLICT(id) DO UPDATE SET ${SET} ${GUARD}`;

/** A bench-only table (the bench's own throwaway D1): one row, bumped per probe. */
export const PROBE_TABLE_SQL = "CREATE TABLE IF NOT EXISTS bench_probe (k INTEGER PRIMARY KEY, n INTEGER NOT NULL)";
const PROBE_SQL = "INSERT INTO bench_probe (k, n) VALUES (1, 1) ON CONFLICT (k) DO UPDATE SET n = n + 1";

export type Rows = Array<Record<string, unknown>>;

export interface Variant {
  name: string;
  /** Untimed: turns row images into whatever the variant consumes (queue bodies for the consumer). */
  prepare(rows: Rows): unknown;
  /** Timed. Throws if the write did not happen as it should. */
  run(env: Env, input: unknown): Promise<void>;
}

/** The store call alone: `target(DB).apply` on pre-validated events. */
export function replicaApplyVariant(name: string, target: (db: D1Database) => ReplicaTarget): Variant {
  return {
    name,
    prepare: (rows) => rows.map((r) => validateEvent(upsertEvent("prospects", r, "supabase-webhook"), "d1")),
    async run(env, valid) {
      await target(env.DB).apply(valid as ValidEvent[]);
    },
  };
}

/** One statement binding the batch's validated rows as one JSON array, alone in a batch(). */
export function upsertStatementVariant(name: string, sql: string): Variant {
  return {
    name,
    prepare: (rows) => rows.map((r) => validateEvent(upsertEvent("prospects", r, "supabase-webhook"), "d1").row),
    async run(env, rows) {
      await env.DB.batch([env.DB.prepare(sql).bind(JSON.stringify(rows))]);
    },
  };
}

export const D1_VARIANTS: Record<string, Variant> = {
  /** The real to-d1 consumer: worker.queue → routeQueueBatch → consumeWorkBatch (validation,
   * newest-per-row reduction, guarded d1Replica, per-message decision, bookkeeping). */
  consumer: {
    name: "consumer",
    prepare: (rows) => rows.map((r) => upsertEvent("prospects", r, "supabase-webhook")),
    async run(env, bodies) {
      const { batch, counts } = syntheticBatch("to-d1", bodies as unknown[]);
      await worker.queue!(batch, env);
      if (counts.acked !== batch.messages.length || counts.retried)
        throw new Error(`consumer acked ${counts.acked}/${batch.messages.length}, retried ${counts.retried}`);
    },
  },
  /** Seed 001: one awaited upsert per row. */
  "per-row": {
    name: "per-row",
    prepare: (rows) => rows,
    async run(env, rows) {
      for (const row of rows as Rows)
        await env.DB.prepare(PER_ROW_SQL)
          .bind(...bindable(row))
          .run();
    },
  },
  /** The raw limit, form 1: one JSON-parameter statement for the batch in one batch(). */
  "raw-json": {
    name: "raw-json",
    prepare: (rows) => rows,
    async run(env, rows) {
      await env.DB.batch([env.DB.prepare(RAW_JSON_SQL).bind(JSON.stringify(rows))]);
    },
  },
  /** The raw limit, form 1b: as form 1, each row parsed once (binary JSON). */
  "raw-jsonb": {
    name: "raw-jsonb",
    prepare: (rows) => rows,
    async run(env, rows) {
      await env.DB.batch([env.DB.prepare(RAW_JSONB_SQL).bind(JSON.stringify(rows))]);
    },
  },
  /** The raw limit, form 2: multi-row VALUES statements (5 rows each), all in one batch(). */
  "raw-values": {
    name: "raw-values",
    prepare: (rows) => rows,
    async run(env, input) {
      const rows = input as Rows;
      const statements: D1PreparedStatement[] = [];
      for (let i = 0; i < rows.length; i += ROWS_PER_VALUES) {
        const chunk = rows.slice(i, i + ROWS_PER_VALUES);
        statements.push(env.DB.prepare(valuesSql(chunk.length)).bind(...chunk.flatMap(bindable)));
      }
      await env.DB.batch(statements);
    },
  },
  /** Breakdown: the consumer with its per-batch log line muted (what logging costs locally). */
  "consumer-nolog": {
    name: "consumer-nolog",
    prepare: (rows) => rows.map((r) => upsertEvent("prospects", r, "supabase-webhook")),
    async run(env, bodies) {
      await muted(() => D1_VARIANTS.consumer!.run(env, bodies));
    },
  },
  /** Breakdown: the store call alone (d1Replica.apply on pre-validated events). */
  "replica-apply": replicaApplyVariant("replica-apply", d1Replica),
  /** Breakdown: the replica's upsert statement alone (with its tombstone check; no read-back). */
  "replica-upsert": upsertStatementVariant("replica-upsert", d1ApplySql(prospects).upsert),
  /** Breakdown: the fixed cost of one D1 write transaction (one tiny upsert in a batch()). */
  "write-txn": {
    name: "write-txn",
    prepare: () => null,
    async run(env) {
      await env.DB.batch([env.DB.prepare(PROBE_SQL)]);
    },
  },
  /** Breakdown: validation alone (CPU, no I/O). */
  validate: {
    name: "validate",
    prepare: (rows) => rows.map((r) => upsertEvent("prospects", r, "supabase-webhook")),
    async run(_env, bodies) {
      for (const body of bodies as unknown[]) validateEvent(body, "d1");
    },
  },
};

export function prospectRows(ids: string[], version: number, offset = 0): Rows {
  return ids.map((id, i) => prospectRow(id, offset + i, version));
}

/** How many of `ids` D1 holds at exactly `version` (untimed correctness check). */
export async function d1CountAtVersion(env: Env, ids: string[], version: number): Promise<number> {
  const row = await env.DB.prepare(
    "SELECT count(*) AS n FROM prospects WHERE id IN (SELECT value FROM json_each(?1)) AND version = ?2",
  )
    .bind(JSON.stringify(ids), version)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** Runs `fn` with console.log muted (the consumer logs one JSON line per batch). */
export async function muted(fn: () => Promise<void>): Promise<void> {
  const log = console.log;
  console.log = () => {};
  try {
    await fn();
  } finally {
    console.log = log;
  }
}
