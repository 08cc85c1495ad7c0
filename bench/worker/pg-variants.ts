import { validateEvent, type ValidEvent } from "../../core/validate-event";
import { columnsOf } from "../../schemas/define-entity";
import { emails } from "../../schemas/entities/emails";
import type { Env } from "../../src/env";
import { consumeWorkBatch } from "../../consumers/work-queue";
import { guardedTarget } from "../../consumers/guarded-target";
import worker from "../../src/index";
import { CircuitBreaker } from "../../core/circuit-breaker";
import { connectPostgres, postgresRpc, sqlLiteral, type Sql } from "../../core/stores/supabase-postgres";
import { applyBatchPayload, supabaseReplica } from "../../core/stores/supabase-replica";
import { muted, type Rows, type Variant } from "./d1-variants";
import { emailRow, upsertEvent } from "./rows";
import { syntheticBatch } from "./synthetic-batch";

/**
 * The ways of writing the same email rows into Postgres (through the Hyperdrive binding and the
 * postgres driver, as the worker does) that the benchmark compares.
 *
 * Connections: the consumer opens one postgres.js client per queue batch (supabaseFromEnv), and
 * so do "per-row" and "raw-bulk"; "raw-bulk-warm" and "replica-apply-warm" reuse one client for
 * the whole request, which isolates what a connection per batch costs.
 */
const COLS = columnsOf(emails);
const TYPES: Record<string, string> = {
  id: "uuid",
  prospect_id: "uuid",
  campaign_id: "uuid",
  mailbox_id: "uuid",
  version: "bigint",
  sent_at: "timestamptz",
  delivered_at: "timestamptz",
  opened_at: "timestamptz",
  clicked_at: "timestamptz",
  replied_at: "timestamptz",
  bounced_at: "timestamptz",
  failed_at: "timestamptz",
  created_at: "timestamptz",
  updated_at: "timestamptz",
};
const SET = COLS.filter((c) => c !== "id")
  .map((c) => `${c} = excluded.${c}`)
  .join(", ");
const GUARD = "where r.version < excluded.version";

// Seed 001 upserts one email per awaited call (through supabase-js); here one awaited statement
// per row through the same driver and binding the consumer uses.
const PER_ROW_SQL =
  `insert into public.emails as r (${COLS.join(", ")}) values (${COLS.map((c, i) => `$${i + 1}::${TYPES[c] ?? "text"}`).join(", ")}) ` +
  `on conflict (id) do update set ${SET} ${GUARD}`;

// The bare bulk statement: the batch as one jsonb parameter, no tombstones, no read-back.
// (postgres.js serialises a jsonb parameter itself, as for sync_apply_batch: pass the value.)
const RAW_BULK_SQL =
  `insert into public.emails as r select * from jsonb_populate_recordset(null::public.emails, $1::jsonb) ` +
  `on conflict (id) do update set ${SET} ${GUARD}`;

const fresh = (env: Env) => connectPostgres(env.HYPERDRIVE!.connectionString);

// The same bare statement with the batch inlined as an escaped jsonb literal (no bind parameter),
// as postgresRpc now sends its arguments: on a new connection postgres.js then needs one round
// trip instead of two (Parse+Describe, then Bind+Execute). prepare: false, as in postgresRpc.
const rawBulkInline = (sql: Sql, rows: Rows) =>
  sql.unsafe(RAW_BULK_SQL.replace("$1::jsonb", sqlLiteral(rows, "jsonb")), [], { prepare: false });

const warmBreaker = new CircuitBreaker("Supabase (bench, warm connection)");

/** One client per request, for the "warm" variants (I/O objects cannot outlive a request). */
export interface PgContext {
  warm: Sql;
}

export function pgVariants(ctx: PgContext): Record<string, Variant> {
  return {
    /** The real to-supabase consumer: worker.queue → routeQueueBatch → supabaseFromEnv (a new
     * client) → consumeWorkBatch with the guarded supabaseReplica → sync_apply_batch(jsonb). */
    consumer: {
      name: "consumer",
      prepare: (rows) => rows.map((r) => upsertEvent("emails", r, "d1-outbox")),
      async run(env, bodies) {
        const { batch, counts } = syntheticBatch("to-supabase", bodies as unknown[]);
        await worker.queue!(batch, env);
        if (counts.acked !== batch.messages.length || counts.retried)
          throw new Error(`consumer acked ${counts.acked}/${batch.messages.length}, retried ${counts.retried}`);
      },
    },
    "consumer-nolog": {
      name: "consumer-nolog",
      prepare: (rows) => rows.map((r) => upsertEvent("emails", r, "d1-outbox")),
      async run(env, bodies) {
        const consumer = pgVariants(ctx).consumer!;
        await muted(() => consumer.run(env, bodies));
      },
    },
    "per-row": {
      name: "per-row",
      prepare: (rows) => rows,
      async run(env, rows) {
        const sql = fresh(env);
        for (const row of rows as Rows) await sql.unsafe(PER_ROW_SQL, COLS.map((c) => row[c] ?? null) as never[]);
      },
    },
    "raw-bulk": {
      name: "raw-bulk",
      prepare: (rows) => rows,
      async run(env, rows) {
        await fresh(env).unsafe(RAW_BULK_SQL, [rows] as never[]);
      },
    },
    "raw-bulk-inline": {
      name: "raw-bulk-inline",
      prepare: (rows) => rows,
      async run(env, rows) {
        await rawBulkInline(fresh(env), rows as Rows);
      },
    },
    "raw-bulk-warm": {
      name: "raw-bulk-warm",
      prepare: (rows) => rows,
      async run(_env, rows) {
        await ctx.warm.unsafe(RAW_BULK_SQL, [rows] as never[]);
      },
    },
    /** Profiling: sync_apply_batch on a new client with its answer reduced to the answer's length
     * (same server work, a few bytes back): what receiving the answer costs on the local stack. */
    "apply-short-answer": {
      name: "apply-short-answer",
      prepare: (rows) => rows.map((r) => validateEvent(upsertEvent("emails", r, "d1-outbox"), "supabase")),
      async run(env, valid) {
        const payload = applyBatchPayload(valid as ValidEvent[]);
        await fresh(env).unsafe(
          `select length(public.sync_apply_batch(${sqlLiteral(payload, "jsonb")})::text) as n`,
          [],
          { prepare: false },
        );
      },
    },
    /** Profiling: the same on the warm client. */
    "apply-short-answer-warm": {
      name: "apply-short-answer-warm",
      prepare: (rows) => rows.map((r) => validateEvent(upsertEvent("emails", r, "d1-outbox"), "supabase")),
      async run(_env, valid) {
        const payload = applyBatchPayload(valid as ValidEvent[]);
        await ctx.warm.unsafe(
          `select length(public.sync_apply_batch(${sqlLiteral(payload, "jsonb")})::text) as n`,
          [],
          { prepare: false },
        );
      },
    },
    /** Breakdown: sync_apply_batch through supabaseReplica on a new client (pre-validated events). */
    "replica-apply": {
      name: "replica-apply",
      prepare: (rows) => rows.map((r) => validateEvent(upsertEvent("emails", r, "d1-outbox"), "supabase")),
      async run(env, valid) {
        await supabaseReplica(postgresRpc(fresh(env))).apply(valid as ValidEvent[]);
      },
    },
    /** Breakdown: the same on the warm client: the function's own cost plus one round trip. */
    "replica-apply-warm": {
      name: "replica-apply-warm",
      prepare: (rows) => rows.map((r) => validateEvent(upsertEvent("emails", r, "d1-outbox"), "supabase")),
      async run(_env, valid) {
        await supabaseReplica(postgresRpc(ctx.warm)).apply(valid as ValidEvent[]);
      },
    },
    /** Profiling: the consumer path exactly as "consumer" (consumeWorkBatch, validation, guarded
     * supabaseReplica over postgresRpc, bookkeeping in D1, log line) but on the request's warm
     * connection instead of a new one per batch: what a pooled, warm backend (deployed Hyperdrive)
     * would leave of the consumer's cost. */
    "consumer-warm": {
      name: "consumer-warm",
      prepare: (rows) => rows.map((r) => upsertEvent("emails", r, "d1-outbox")),
      async run(env, bodies) {
        const { batch, counts } = syntheticBatch("to-supabase", bodies as unknown[]);
        const target = guardedTarget(supabaseReplica(postgresRpc(ctx.warm)), warmBreaker);
        await consumeWorkBatch({ queue: "to-supabase", target, db: env.DB, dlq: env.TO_SUPABASE_DLQ }, batch);
        if (counts.acked !== batch.messages.length)
          throw new Error(`consumer-warm acked ${counts.acked}/${batch.messages.length}`);
      },
    },
    /** Profiling: the batch's JSON sent as a jsonb literal and parsed, nothing written (transport,
     * JSON text and jsonb parsing alone), on the warm connection. */
    "jsonb-echo-warm": {
      name: "jsonb-echo-warm",
      prepare: (rows) => rows.map((r) => validateEvent(upsertEvent("emails", r, "d1-outbox"), "supabase")),
      async run(_env, valid) {
        const payload = applyBatchPayload(valid as ValidEvent[]);
        await ctx.warm.unsafe(`select jsonb_array_length(${sqlLiteral(payload, "jsonb")}) as n`, [], {
          prepare: false,
        });
      },
    },
    /** Breakdown: what a new client costs before its first answer (connect, startup, select 1). */
    connect: {
      name: "connect",
      prepare: () => null,
      async run(env) {
        await fresh(env).unsafe("select 1");
      },
    },
    /** Breakdown: validation alone (CPU, no I/O). */
    validate: {
      name: "validate",
      prepare: (rows) => rows.map((r) => upsertEvent("emails", r, "d1-outbox")),
      async run(_env, bodies) {
        for (const body of bodies as unknown[]) validateEvent(body, "supabase");
      },
    },
  };
}

export function emailRows(ids: string[], version: number, prospectId: string): Rows {
  return ids.map((id, i) => emailRow(id, i, version, prospectId));
}

export async function pgCountAtVersion(sql: Sql, ids: string[], version: number): Promise<number> {
  const [row] = await sql.unsafe(
    "select count(*)::int as n from public.emails where id in (select value::uuid from jsonb_array_elements_text($1::jsonb)) and version = $2::bigint",
    [ids, version] as never[],
  );
  return Number(row?.n ?? 0);
}
