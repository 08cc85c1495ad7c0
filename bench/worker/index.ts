import { sweepChangeLog } from "../../producers/change-log-sweep";
import { publishEvents, queueBindings } from "../../producers/publish";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { utcNow } from "../../core/utc";
import { failureRow, insertFailedTasks } from "../../core/ledger/record-failures";
import { connectPostgres } from "../../core/stores/supabase-postgres";
import { supabaseFromEnv } from "../../src/wiring/supabase-from-env";
import { D1_VARIANTS, d1CountAtVersion, PROBE_TABLE_SQL, prospectRows, type Variant } from "./d1-variants";
import { emailRows, pgCountAtVersion, pgVariants, type PgContext } from "./pg-variants";
import { PROPOSAL_VARIANTS } from "./proposals";
import { BEFORE_AFTER_VARIANTS } from "./d1-before";
import { d1Scale } from "./d1-scale";
import { d1ApplyCases } from "./d1-apply-cases";
import { observed, recorder, type RecorderOptions } from "./recorder";
import { poolIds, prospectRow, upsertEvent } from "./rows";
import { webhookCost } from "./webhook-cost";

/**
 * `npm run bench` only (wrangler dev bench/worker/index.ts): the real worker, unchanged, plus
 * bench-only endpoints under /__bench/ that run the measured variants inside workerd against the
 * real D1, Queue and Hyperdrive bindings, and a recorder for the lag and backlog phases.
 * Nothing here ships: production runs src/index.ts.
 */
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/__bench/")) {
      try {
        return await bench(url.pathname.slice("/__bench/".length), request, env);
      } catch (error) {
        return Response.json({ error: String((error as Error).stack ?? error) }, { status: 500 });
      }
    }
    if (recorder.options.webhooks && url.pathname === "/webhooks/supabase" && request.method === "POST") {
      const receivedAt = Date.now();
      const payload = (await request
        .clone()
        .json()
        .catch(() => null)) as { record?: { id?: string; version?: number } } | null;
      const response = await worker.fetch!(request, env, ctx);
      const record = payload?.record;
      recorder.webhooks.push([
        String(record?.id ?? ""),
        Number(record?.version ?? 0),
        receivedAt,
        Date.now(),
        response.status,
      ]);
      return response;
    }
    if (recorder.options.webhooks && url.pathname === "/webhooks/supabase/batch" && request.method === "POST") {
      // Statement capture: one hit per chunk, [table, rows in it, receivedAt, answeredAt, status].
      const receivedAt = Date.now();
      const payload = (await request
        .clone()
        .json()
        .catch(() => null)) as { table?: string; records?: unknown[]; old_records?: unknown[] } | null;
      const response = await worker.fetch!(request, env, ctx);
      const rows = (payload?.records ?? payload?.old_records ?? []).length;
      recorder.webhooks.push([String(payload?.table ?? ""), rows, receivedAt, Date.now(), response.status]);
      return response;
    }
    return worker.fetch!(request, env, ctx);
  },
  scheduled: (controller, env, ctx) => worker.scheduled!(controller, env, ctx),
  async queue(batch, env) {
    const { deliveries, batches } = recorder.options;
    if (!deliveries && !batches) return worker.queue!(batch, env);
    const startedAt = Date.now();
    const seen = observed(batch);
    try {
      await worker.queue!(seen.batch, env);
    } finally {
      const done = Date.now();
      if (batches) recorder.batches.push([batch.queue, batch.messages.length, startedAt, done - startedAt]);
      if (deliveries && batch.queue === "to-d1") {
        batch.messages.forEach((m, i) => {
          if (!seen.acked[i]) return;
          const e = m.body as { key?: { id?: string }; version?: number; source?: string };
          recorder.deliveries.push([String(e.key?.id ?? ""), Number(e.version ?? 0), String(e.source ?? ""), done]);
        });
      }
    }
  },
} satisfies ExportedHandler<Env>;

const STORE_CODE = { d1: 1, supabase: 2 } as const;

interface ThroughputRequest {
  store: keyof typeof STORE_CODE;
  batch: number;
  /** Version written this round (round 0 = 1: the warm-up inserts the rows). */
  version: number;
  /** Variants in the order to run them (the runner rotates it every round). */
  order: string[];
  /** Rows per variant this round. */
  rows: Record<string, number>;
  /** Postgres only: the prospect the email rows belong to. */
  owner?: string;
}

async function bench(route: string, request: Request, env: Env): Promise<Response> {
  const body = request.method === "POST" ? ((await request.json()) as Record<string, unknown>) : {};
  switch (route) {
    case "ping":
      return Response.json({ ok: true });
    case "throughput":
      return Response.json(await throughput(body as unknown as ThroughputRequest, env));
    case "d1-apply-cases":
      return Response.json(await d1ApplyCases(env, { pool: Number(body.pool), reps: Number(body.reps ?? 30) }));
    case "d1-scale":
      return Response.json(await d1Scale(env, { pool: Number(body.pool), reps: Number(body.reps ?? 20) }));
    case "sweep": {
      // Exactly what the every-minute cron runs (src/scheduled.ts), with the grace period and the
      // number of pages per run given by the runner.
      const started = Date.now();
      const result = await sweepChangeLog(
        { rpc: supabaseFromEnv(env), db: env.DB, queues: queueBindings(env) },
        {
          graceSeconds: Number(body.grace ?? 30),
          maxBatches: body.maxBatches === undefined ? undefined : Number(body.maxBatches),
        },
      );
      return Response.json({ ms: Date.now() - started, result });
    }
    case "recorder":
      if (request.method === "POST") {
        recorder.reset(body as Partial<RecorderOptions>);
        return Response.json({ ok: true });
      }
      return Response.json(recorder.drain());
    case "d1": {
      const { results } = await env.DB.prepare(String(body.sql))
        .bind(...((body.params as unknown[]) ?? []))
        .all();
      return Response.json({ results });
    }
    case "publish": {
      // Events straight onto the to-d1 queue (the webhook route's own publish call, minus the
      // HTTP request per change): isolates the queue and the consumer from the webhook hop.
      const n = Number(body.n);
      const offset = Number(body.offset ?? 0);
      const ids = poolIds(Number(body.pool ?? 0xb0) * 0x100000, offset + n).slice(offset);
      const events = ids.map((id, i) => upsertEvent("prospects", prospectRow(id, offset + i, 1), "supabase-webhook"));
      await publishEvents(queueBindings(env), events);
      return Response.json({ sentAt: Date.now(), ids });
    }
    case "webhook-cost":
      return Response.json(await webhookCost(env, Number(body.n ?? 2000), env.WEBHOOK_SECRET!));
    case "seed-failed-tasks":
      return Response.json(await seedFailedTasks(env, Number(body.n), Number(body.pool ?? 0xfa)));
    default:
      return Response.json({ error: `no bench route ${route}` }, { status: 404 });
  }
}

async function throughput(req: ThroughputRequest, env: Env) {
  const pg: PgContext | undefined =
    req.store === "supabase" ? { warm: connectPostgres(env.HYPERDRIVE!.connectionString) } : undefined;
  if (pg) await pg.warm.unsafe("select 1");
  else await env.DB.prepare(PROBE_TABLE_SQL).run();
  const variants: Record<string, Variant> = pg
    ? pgVariants(pg)
    : { ...D1_VARIANTS, ...PROPOSAL_VARIANTS, ...BEFORE_AFTER_VARIANTS };

  // Untimed: each variant's rows (its own ids) cut into batches and prepared.
  const plans = req.order.map((name) => {
    const variant = variants[name];
    if (!variant) throw new Error(`unknown variant ${name} for ${req.store}`);
    const pool = STORE_CODE[req.store] * 0x100000 + Object.keys(variants).indexOf(name) * 0x1000 + req.batch;
    const ids = poolIds(pool, req.rows[name] ?? 0);
    const rows = pg ? emailRows(ids, req.version, req.owner!) : prospectRows(ids, req.version);
    const inputs: unknown[] = [];
    for (let i = 0; i < rows.length; i += req.batch) inputs.push(variant.prepare(rows.slice(i, i + req.batch)));
    return { name, variant, ids, inputs, ms: 0, done: 0 };
  });

  // Interleaved one batch at a time: slot k runs the next batch of every variant due in it, in
  // an order rotated per slot, so load bursts from other processes hit all variants alike. A
  // variant with fewer batches (the per-row loop) is spread evenly over the slots.
  const slots = Math.max(...plans.map((p) => p.inputs.length));
  for (let k = 0; k < slots; k++) {
    const due = plans.filter(
      (p) => p.done < p.inputs.length && Math.floor(((k + 1) * p.inputs.length) / slots) > p.done,
    );
    for (let j = 0; j < due.length; j++) {
      const p = due[(j + k) % due.length]!;
      const started = performance.now();
      await p.variant.run(env, p.inputs[p.done]);
      p.ms += performance.now() - started;
      p.done++;
    }
  }

  const out: Record<string, { rows: number; batches: number; ms: number }> = {};
  for (const p of plans) {
    if (!["validate", "write-txn", "connect", "jsonb-echo-warm"].includes(p.name) && p.ids.length) {
      const n = pg
        ? await pgCountAtVersion(pg.warm, p.ids, req.version)
        : await d1CountAtVersion(env, p.ids, req.version);
      if (n !== p.ids.length)
        throw new Error(`${req.store} ${p.name}: ${n} of ${p.ids.length} rows at version ${req.version} after the run`);
    }
    out[p.name] = { rows: p.ids.length, batches: p.inputs.length, ms: p.ms };
  }
  return out;
}

/** Failed tasks as the dead-letter consumer records them (same function), each holding a valid
 * prospect upsert that applies when replayed. */
async function seedFailedTasks(env: Env, n: number, pool: number) {
  const started = Date.now();
  const ids = poolIds(pool * 0x100000, n);
  const now = utcNow();
  for (let i = 0; i < n; i += 250) {
    const rows = ids.slice(i, i + 250).map((id, j) =>
      failureRow({
        queue: "to-d1",
        // Written now: replay asks the source about row images older than tombstone retention.
        event: upsertEvent("prospects", { ...prospectRow(id, i + j, 1), updated_at: now }, "supabase-webhook"),
        error_code: "BENCH_SEEDED",
        error_message: "seeded by npm run bench: a valid event, applies when replayed",
        retryable: 0,
        attempts: 1,
        last_message_id: `bench-${i + j}`,
        failed_at: now,
      }),
    );
    await insertFailedTasks(env.DB, rows);
  }
  return { ms: Date.now() - started, n };
}
