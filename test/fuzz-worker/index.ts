import type { Env } from "../../src/env";
import worker from "../../src/index";

/**
 * The real worker with its bindings counted per request, for `npm run fuzz` only (the fuzz stack
 * bundles this entry; production runs src/index.ts). Nothing in the worker changes: each request
 * gets its own thin wrappers around the D1 binding and the queue producers, and the response says
 * what the request did to them:
 *
 * - `x-fuzz-queue-sends`: messages the request put on any queue (send / sendBatch that resolved);
 * - `x-fuzz-d1-rows-written`: rows D1 reports written (`meta.rows_written`, triggers included) by
 *   every statement of the request that succeeded; a batch that threw rolled back and counts 0;
 * - `x-fuzz-d1-changes`: D1's `meta.changes` summed the same way (a second opinion).
 *
 * A refused request (4xx) must show 0 for all three: that is the fuzz suite's second oracle. The
 * fetch path does no `waitUntil` work, so everything a request does happens before its response.
 */
interface Counts {
  queueSends: number;
  rowsWritten: number;
  changes: number;
}

type Meta = { rows_written?: number; changes?: number } | undefined;

function record(counts: Counts, meta: Meta) {
  counts.rowsWritten += Number(meta?.rows_written ?? 0);
  counts.changes += Number(meta?.changes ?? 0);
}

const REAL = Symbol("real statement");
type Counted = D1PreparedStatement & { [REAL]: D1PreparedStatement };

function countedStatement(real: D1PreparedStatement, counts: Counts): Counted {
  const wrapped = {
    [REAL]: real,
    bind: (...values: unknown[]) => countedStatement(real.bind(...values), counts),
    async run() {
      const result = await real.run();
      record(counts, result.meta as Meta);
      return result;
    },
    async all() {
      const result = await real.all();
      record(counts, result.meta as Meta);
      return result;
    },
    // first() reports no meta, so it runs as all() (same statement, same rows) to see writes too.
    async first(column?: string) {
      const result = await real.all<Record<string, unknown>>();
      record(counts, result.meta as Meta);
      const row = result.results[0];
      if (row === undefined) return null;
      return column === undefined ? row : row[column];
    },
    // raw() reports no meta either; the fetch path does not use it (a write through it would go uncounted).
    raw: (options?: { columnNames?: boolean }) => (options?.columnNames ? real.raw({ columnNames: true }) : real.raw()),
  };
  return wrapped as unknown as Counted;
}

function countedD1(db: D1Database, counts: Counts): D1Database {
  return {
    prepare: (sql: string) => countedStatement(db.prepare(sql), counts),
    async batch<T>(statements: D1PreparedStatement[]) {
      const results = await db.batch<T>(statements.map((s) => (s as Counted)[REAL] ?? s));
      for (const r of results) record(counts, r.meta as Meta);
      return results;
    },
    exec: async (sql: string) => {
      const result = await db.exec(sql);
      // exec reports only a statement count: assume each statement may have written.
      counts.changes += result.count;
      return result;
    },
    dump: () => db.dump(),
    withSession: (constraint?: string) => db.withSession(constraint),
  } as unknown as D1Database;
}

function countedQueue(queue: Queue, counts: Counts): Queue {
  return {
    async send(body: unknown, options?: QueueSendOptions) {
      await queue.send(body, options);
      counts.queueSends += 1;
    },
    async sendBatch(messages: Iterable<MessageSendRequest>, options?: QueueSendBatchOptions) {
      const list = [...messages];
      await queue.sendBatch(list, options);
      counts.queueSends += list.length;
    },
    metrics: () => queue.metrics(),
  } as unknown as Queue;
}

interface FuzzEnv extends Env {
  FUZZ_KEEP_UNREAD_BODIES?: string;
}

export default {
  async fetch(request, env: FuzzEnv, ctx) {
    const counts: Counts = { queueSends: 0, rowsWritten: 0, changes: 0 };
    const counted: Env = {
      ...env,
      DB: countedD1(env.DB, counts),
      TO_D1: countedQueue(env.TO_D1, counts),
      TO_SUPABASE: countedQueue(env.TO_SUPABASE, counts),
      TO_D1_DLQ: countedQueue(env.TO_D1_DLQ, counts),
      TO_SUPABASE_DLQ: countedQueue(env.TO_SUPABASE_DLQ, counts),
      CONTROL: countedQueue(env.CONTROL, counts),
    };
    const response = await worker.fetch!(request, counted, ctx);
    // wrangler dev's proxy (4.86) breaks the NEXT request (503 "Your worker restarted mid-request")
    // when a response leaves a large request body unread, as early refusals (401, missing
    // x-operator) do. Production has no such proxy; reading the body after the worker answered
    // keeps one request's refusal from failing an innocent one. FUZZ_KEEP_UNREAD_BODIES=1 shows it.
    if (env.FUZZ_KEEP_UNREAD_BODIES !== "1" && request.body && !request.bodyUsed) await request.arrayBuffer();
    const out = new Response(response.body, response);
    out.headers.set("x-fuzz-queue-sends", String(counts.queueSends));
    out.headers.set("x-fuzz-d1-rows-written", String(counts.rowsWritten));
    out.headers.set("x-fuzz-d1-changes", String(counts.changes));
    return out;
  },
  queue: (batch, env) => worker.queue!(batch, env),
  scheduled: (controller, env, ctx) => worker.scheduled!(controller, env, ctx),
} satisfies ExportedHandler<FuzzEnv>;
