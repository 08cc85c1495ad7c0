/**
 * `npx tsx bench/profile-postgres.ts [--batch 100] [--iterations 60]`: where the to-supabase
 * apply spends its time on the Postgres side, without workerd or wrangler's Hyperdrive proxy
 * (postgres.js from Node, straight to a scratch cluster with durable commits, as `npm run bench`).
 *
 * Every variant writes its own 100 email rows at a higher version each iteration, interleaved,
 * on warm connections unless named "cold". Prints ms per call (median and mean).
 * Variants whose name starts with "proposal" run SQL that is not in migrations/ (rejected
 * alternatives, see bench/worker/proposed-sql.ts and proposed-per-entity-sql.ts); it is created
 * in this scratch database only.
 */
import { parseArgs } from "node:util";
import postgres from "postgres";
import { columnsOf } from "../schemas/define-entity";
import { emails } from "../schemas/entities/emails";
import { postgresExecutor } from "../tools/local/postgres-executor";
import { applySupabaseMigrations } from "../tools/local/supabase-migrations";
import { postgresRpc, sqlLiteral } from "../core/stores/supabase-postgres";
import { benchDatabase } from "./postgres";
import { median } from "./stats";
import { emailRow, poolIds, upsertEvent } from "./worker/rows";
import { PROPOSED_APPLY_BATCH_SQL } from "./worker/proposed-sql";
import { PROPOSED_PER_ENTITY_SQL } from "./worker/proposed-per-entity-sql";

const { values: flags } = parseArgs({ options: { batch: { type: "string" }, iterations: { type: "string" } } });
const BATCH = Number(flags.batch ?? 100);
const ITERATIONS = Number(flags.iterations ?? 60);

const COLS = columnsOf(emails);
const SET = COLS.filter((c) => c !== "id")
  .map((c) => `${c} = excluded.${c}`)
  .join(", ");
const RAW_BULK_SQL =
  `insert into public.emails as r select * from jsonb_populate_recordset(null::public.emails, $1::jsonb) ` +
  `on conflict (id) do update set ${SET} where r.version < excluded.version`;

const database = await benchDatabase();
const admin = postgresExecutor(database.url);
try {
  await applySupabaseMigrations(admin);
  await admin.exec(PROPOSED_APPLY_BATCH_SQL);
  await admin.exec(PROPOSED_PER_ENTITY_SQL);
  const warm = postgres(database.url, { max: 1, fetch_types: false, onnotice: () => {} });
  const [owner] = await warm`insert into prospects (name) values ('profile owner') returning id`;
  const ownerId = String(owner!.id);
  const fresh = () => postgres(database.url, { max: 1, fetch_types: false, onnotice: () => {} });

  const payload = (rows: Record<string, unknown>[]) =>
    rows.map((row) => {
      const e = upsertEvent("emails", row, "d1-outbox");
      return { id: e.id, entity: e.entity, op: e.op, key: e.key, version: e.version, row };
    });

  const secondCall: number[] = [];
  type Run = (rows: Record<string, unknown>[]) => Promise<unknown>;
  const variants: Record<string, Run> = {
    "raw-bulk (param, prepared)": (rows) => warm.unsafe(RAW_BULK_SQL, [rows] as never[]),
    "raw-bulk (inline literal)": (rows) =>
      warm.unsafe(RAW_BULK_SQL.replace("$1::jsonb", sqlLiteral(rows, "jsonb")), [], { prepare: false }),
    "sync_apply_batch (param, prepared; the old transport)": (rows) =>
      warm.unsafe("select public.sync_apply_batch(p_events => $1::jsonb) as result", [payload(rows)] as never[]),
    "sync_apply_batch (postgresRpc: inline literal)": (rows) =>
      postgresRpc(warm).call("sync_apply_batch", { p_events: payload(rows) }),
    "proposal: per-entity generated functions (inline literal)": (rows) =>
      warm.unsafe(`select bench.sync_apply_batch_per_entity(${sqlLiteral(payload(rows), "jsonb")}) as result`, [], {
        prepare: false,
      }),
    "proposal: sync_apply_batch_v2 (inline literal)": (rows) =>
      warm.unsafe(`select bench.sync_apply_batch_v2(${sqlLiteral(payload(rows), "jsonb")}) as result`, [], {
        prepare: false,
      }),
    "cold backend: connect + select 1": async () => {
      const c = fresh();
      await c`select 1`;
      await c.end();
    },
    "cold backend: connect + an empty plpgsql block (loads plpgsql)": async () => {
      const c = fresh();
      await c.unsafe("do $$ begin end $$", [], { prepare: false });
      await c.end();
    },
    "cold backend: connect + sync.column_lists('emails')": async () => {
      const c = fresh();
      await c.unsafe("select * from sync.column_lists('emails')", [], { prepare: false });
      await c.end();
    },
    "cold backend: connect + raw-bulk (inline literal)": async (rows) => {
      const c = fresh();
      await c.unsafe(RAW_BULK_SQL.replace("$1::jsonb", sqlLiteral(rows, "jsonb")), [], { prepare: false });
      await c.end();
    },
    "cold backend: connect + sync_apply_batch of 1 row, then of the batch": async (rows) => {
      const c = fresh();
      await postgresRpc(c).call("sync_apply_batch", { p_events: payload(rows.slice(0, 1)) });
      const started = performance.now();
      await postgresRpc(c).call("sync_apply_batch", { p_events: payload(rows) });
      secondCall.push(performance.now() - started);
      await c.end();
    },
    "cold backend: connect + sync_apply_batch (postgresRpc)": async (rows) => {
      const c = fresh();
      await postgresRpc(c).call("sync_apply_batch", { p_events: payload(rows) });
      await c.end();
    },
    "cold backend: connect + proposal: per-entity generated functions": async (rows) => {
      const c = fresh();
      await c.unsafe(`select bench.sync_apply_batch_per_entity(${sqlLiteral(payload(rows), "jsonb")}) as result`, [], {
        prepare: false,
      });
      await c.end();
    },
    "cold backend: connect + proposal v2": async (rows) => {
      const c = fresh();
      await c.unsafe(`select bench.sync_apply_batch_v2(${sqlLiteral(payload(rows), "jsonb")}) as result`, [], {
        prepare: false,
      });
      await c.end();
    },
    "jsonb echo: select jsonb_array_length(literal) (transport + parse only)": (rows) =>
      warm.unsafe(`select jsonb_array_length(${sqlLiteral(payload(rows), "jsonb")})`, [], { prepare: false }),
  };

  const names = Object.keys(variants);
  const times = new Map<string, number[]>(names.map((n) => [n, []]));
  for (let it = 0; it <= ITERATIONS; it++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(j + it) % names.length]!;
      const ids = poolIds(0x500 + names.indexOf(name), BATCH);
      const rows = ids.map((id, i) => emailRow(id, i, it + 1, ownerId));
      const started = performance.now();
      await variants[name]!(rows);
      const ms = performance.now() - started;
      if (it > 0) times.get(name)!.push(ms); // iteration 0 inserts and warms up
    }
  }
  console.log(`batch ${BATCH}, ${ITERATIONS} iterations, ms per call (median / mean):`);
  for (const [name, t] of times) {
    const mean = t.reduce((a, b) => a + b, 0) / t.length;
    console.log(`  ${median(t).toFixed(2).padStart(7)} / ${mean.toFixed(2).padStart(7)}  ${name}`);
  }
  console.log(
    `  ${median(secondCall).toFixed(2).padStart(7)}           (of which: the batch call after a 1-row call on the same new backend)`,
  );
  await warm.end();
} finally {
  await admin.close();
  await database.drop();
}
