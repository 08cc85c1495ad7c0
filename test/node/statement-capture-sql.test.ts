import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_EVENT_BYTES } from "../../schemas/event";
import { DEFAULT_BATCH_BYTES, DEFAULT_BATCH_ROWS } from "../../schemas/webhook-payload";
import { CAPTURE_TRIGGERS, WEBHOOK_TRIGGER, webhookTriggersSql } from "../../tools/deploy/webhooks-sql";
import { postgresExecutor } from "../../tools/local/postgres-executor";
import { scratchDatabase } from "../../tools/local/scratch-database";
import { applySupabaseMigrations } from "../../tools/local/supabase-migrations";
import { applySupabaseRoles } from "../../tools/local/supabase-roles";
import { PROJECT_ROOT } from "../../tools/local/wrangler";

// Statement-level capture on a real Postgres set up like a Supabase project (the API roles, our
// migrations, the local pg_net stand-in, whose net.http_post queues requests in
// net.http_request_queue exactly as pg_net's does). No relay runs: the requests stay queued and
// the test reads what pg_net would send. Writes are made as service_role, as supabase-js makes them.

const URL_BASE = "http://127.0.0.1:9/webhooks/supabase";
const SECRET = "capture-test-secret";

interface Request {
  url: string;
  headers: Record<string, string>;
  body: {
    type: string;
    schema: string;
    table: string;
    chunk: number;
    chunks: number;
    skipped: number;
    records?: Array<Record<string, unknown>>;
    old_records?: Array<{ id: string; version: number }>;
  };
}

let database: Awaited<ReturnType<typeof scratchDatabase>>;
let admin: ReturnType<typeof postgresExecutor>;
let sql: postgres.Sql; // the owner: reads the queue, stages faults
let api: postgres.Sql; // service_role: the writer

beforeAll(async () => {
  database = await scratchDatabase("capture");
  admin = postgresExecutor(database.url);
  await applySupabaseRoles(admin);
  await applySupabaseMigrations(admin);
  await admin.exec(await readFile(join(PROJECT_ROOT, "migrations/dev/pg_net_shim.sql"), "utf8"));
  await admin.exec(webhookTriggersSql({ url: URL_BASE, secret: SECRET }));
  sql = postgres(database.url, { max: 2, onnotice: () => {} });
  api = postgres(database.url, {
    max: 2,
    onnotice: () => {},
    connection: { role: "service_role" } as Record<string, string>,
  });
}, 120_000);

afterAll(async () => {
  await api?.end({ timeout: 5 });
  await sql?.end({ timeout: 5 });
  await admin?.close();
  await database?.drop();
});

/** The requests queued since the last call (and clears the queue). */
async function takeRequests(): Promise<Request[]> {
  const rows = await sql<Request[]>`delete from net.http_request_queue returning id, url, headers, body`;
  return [...rows].sort(
    (a, b) => Number((a as unknown as { id: string }).id) - Number((b as unknown as { id: string }).id),
  );
}

function checkEnvelope(requests: Request[], type: string) {
  requests.forEach((r, i) => {
    expect(r.url).toBe(`${URL_BASE}/batch`);
    expect(r.headers.Authorization).toBe(`Bearer ${SECRET}`);
    expect(r.body).toMatchObject({ type, schema: "public", table: "prospects", chunk: i + 1, chunks: requests.length });
    const rows = (r.body.records ?? r.body.old_records)!;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThanOrEqual(DEFAULT_BATCH_ROWS);
    // The budget plus the one row that crossed it, counted as the trigger counts (jsonb text).
    const bytes = rows.reduce((s, row) => s + Buffer.byteLength(JSON.stringify(row)), 0);
    expect(bytes).toBeLessThanOrEqual(DEFAULT_BATCH_BYTES + MAX_EVENT_BYTES);
  });
}

const expectedRequests = (n: number) => Math.ceil(n / DEFAULT_BATCH_ROWS);

describe("statement capture as service_role: one request per chunk, every row exactly once", () => {
  for (const n of [1, 1000, 10_000]) {
    it(`insert, update, delete of ${n} row(s)`, async () => {
      await takeRequests();
      const tag = `capture-${n}-${Date.now()}`;
      const inserted = await api<Array<{ id: string; version: string }>>`
        insert into prospects (name, city) select ${tag} || ' ' || g, 'Zürich' from generate_series(1, ${n}::int) g
        returning id, version`;
      expect(inserted).toHaveLength(n);

      const inserts = await takeRequests();
      checkEnvelope(inserts, "INSERT");
      expect(inserts).toHaveLength(expectedRequests(n));
      if (n >= 1000) expect(inserts.length).toBeLessThanOrEqual(n / 100); // the target: ≤ 1 % of rows
      const insertedRecords = inserts.flatMap((r) => r.body.records!);
      expect(insertedRecords.map((r) => r.id).sort()).toEqual(inserted.map((r) => r.id).sort());
      expect(new Set(insertedRecords.map((r) => r.version))).toEqual(new Set([1]));
      expect(insertedRecords[0]).toMatchObject({ city: "Zürich", stage: "new" });

      // Updated as service_role: the row images are the stamped ones (version 2, the new score).
      await api`update prospects set score = score + 7 where name like ${tag + " %"}`;
      const updates = await takeRequests();
      checkEnvelope(updates, "UPDATE");
      expect(updates).toHaveLength(expectedRequests(n));
      const updated = updates.flatMap((r) => r.body.records!);
      expect(updated).toHaveLength(n);
      expect(new Set(updated.map((r) => r.id))).toEqual(new Set(inserted.map((r) => r.id)));
      const inDb = await sql<Array<{ row: Record<string, unknown> }>>`
        select to_jsonb(p) as row from prospects p where name like ${tag + " %"}`;
      const byId = new Map(inDb.map((r) => [r.row.id as string, r.row]));
      for (const record of updated) expect(record).toEqual(byId.get(record.id as string));
      expect(new Set(updated.map((r) => `${r.version}:${r.score}`))).toEqual(new Set(["2:7"]));

      await api`delete from prospects where name like ${tag + " %"}`;
      const deletes = await takeRequests();
      checkEnvelope(deletes, "DELETE");
      expect(deletes.length).toBeLessThanOrEqual(expectedRequests(n));
      const gone = deletes.flatMap((r) => r.body.old_records!);
      expect(gone.map((r) => r.id).sort()).toEqual(inserted.map((r) => r.id).sort());
      expect(new Set(gone.map((r) => r.version))).toEqual(new Set([2]));
      expect(Object.keys(gone[0]!).sort()).toEqual(["id", "version"]);
    });
  }

  it("cuts wide rows by bytes, not only by count", async () => {
    await takeRequests();
    const wide = "x".repeat(3000);
    await api`insert into prospects (name, website) select 'wide ' || g, ${wide} from generate_series(1, 1000) g`;
    const requests = await takeRequests();
    checkEnvelope(requests, "INSERT");
    // ~3.2 MB of rows at 512 KiB per request: 7 requests, not the 2 that counting rows would give.
    expect(requests.length).toBeGreaterThan(expectedRequests(1000));
    expect(requests.flatMap((r) => r.body.records!)).toHaveLength(1000);
  });

  it("sends nothing for a statement that changes no row, or rows that do not change", async () => {
    await takeRequests();
    await api`update prospects set score = 1 where name = 'no such prospect'`;
    await api`insert into prospects (name) values ('unchanged')`;
    await takeRequests();
    await api`update prospects set name = name where name = 'unchanged'`; // stamp_version skips a no-op
    expect(await takeRequests()).toEqual([]);
  });

  it("leaves out a row too large for a queue message and says so; the change log still has it", async () => {
    await takeRequests();
    const huge = "é".repeat(MAX_EVENT_BYTES); // 2 bytes each in UTF-8
    const rows = await api<Array<{ id: string }>>`
      insert into prospects (name, website) values ('huge', ${huge}), ('small', null) returning id`;
    const [request, ...more] = await takeRequests();
    expect(more).toEqual([]);
    expect(request!.body.skipped).toBe(1);
    expect(request!.body.records!.map((r) => r.id)).toEqual([rows[1]!.id]);
    const logged = await sql`select row_id from sync.change_log where row_id = ${rows[0]!.id}`;
    expect(logged).toHaveLength(1);
  });

  it("never fails the write when pg_net cannot take the request: the change log has the change", async () => {
    await takeRequests();
    const [row] = await api<Array<{ id: string }>>`insert into prospects (name) values ('pg_net broken') returning id`;
    await takeRequests();
    await sql`alter function net.http_post(text, jsonb, jsonb, jsonb, integer) rename to http_post_gone`;
    try {
      await api`update prospects set score = 99 where id = ${row!.id}`;
    } finally {
      await sql`alter function net.http_post_gone(text, jsonb, jsonb, jsonb, integer) rename to http_post`;
    }
    expect(await takeRequests()).toEqual([]);
    const [now] = await sql`select score, version from prospects where id = ${row!.id}`;
    expect(now).toMatchObject({ score: 99, version: "2" });
    const logged = await sql`select version from sync.change_log where row_id = ${row!.id} order by version`;
    expect(logged.map((r) => String(r.version))).toEqual(["1", "2"]);
  });

  it("never fails the write when its trigger was hand-edited into nonsense: a warning, and the change log has it", async () => {
    await sql.unsafe(`create trigger sds_test_broken_capture after update on public.mailboxes
      referencing new table as sync_new for each statement
      execute function sync.capture_statement('http://x', 'not json', 'soon', '0', '0', '0')`);
    try {
      await takeRequests();
      const [m] = await api<
        Array<{ id: string }>
      >`insert into mailboxes (email) values ('broken@capture.test') returning id`;
      const notices: string[] = [];
      const watched = postgres(database.url, {
        max: 1,
        onnotice: (n) => notices.push(`${n.severity}: ${n.message}`),
        connection: { role: "service_role" } as Record<string, string>,
      });
      await watched`update mailboxes set daily_limit = 7 where id = ${m!.id}`;
      await watched.end({ timeout: 5 });
      expect(notices).toEqual([
        expect.stringMatching(/^WARNING: .*statement capture on public\.mailboxes could not queue/),
      ]);
      const [row] = await sql`select daily_limit, version from mailboxes where id = ${m!.id}`;
      expect(row).toMatchObject({ daily_limit: 7, version: "2" });
      const requests = await takeRequests();
      // The insert was captured by the installed triggers; the update's broken trigger sent nothing,
      // while the installed update trigger still did.
      expect(requests.map((r) => `${r.body.type}:${r.body.table}`)).toEqual(["INSERT:mailboxes", "UPDATE:mailboxes"]);
      const logged = await sql`select version from sync.change_log where row_id = ${m!.id} order by version`;
      expect(logged.map((r) => String(r.version))).toEqual(["1", "2"]);
    } finally {
      await sql`drop trigger sds_test_broken_capture on public.mailboxes`;
    }
  });

  it("runs as its owner: service_role cannot call the trigger function or read the queue it writes", async () => {
    const [fn] = await sql`select prosecdef, proconfig from pg_proc where oid = 'sync.capture_statement'::regproc`;
    expect(fn).toMatchObject({ prosecdef: true, proconfig: ['search_path=""'] });
    const [rights] =
      await sql`select has_function_privilege('service_role', 'sync.capture_statement()', 'execute') as f,
                                      has_schema_privilege('service_role', 'sync', 'usage') as s`;
    expect(rights).toEqual({ f: false, s: false });
  });

  it("switches modes cleanly: row-level replaces the statement triggers and back", async () => {
    const triggers = async () =>
      (
        await sql`select tgname from pg_trigger where tgrelid = 'public.prospects'::regclass and tgname like 'd1_sync_%'
                  order by tgname`
      ).map((r) => r.tgname as string);
    await admin.exec(webhookTriggersSql({ url: URL_BASE, secret: SECRET, capture: "row" }));
    expect(await triggers()).toEqual([WEBHOOK_TRIGGER]);
    await admin.exec(webhookTriggersSql({ url: URL_BASE, secret: SECRET }));
    expect(await triggers()).toEqual(Object.values(CAPTURE_TRIGGERS).sort());
  });

  it("refuses to install without pg_net, naming what is missing, and changes nothing", async () => {
    await sql`alter schema net rename to net_gone`;
    try {
      await expect(admin.exec(webhookTriggersSql({ url: URL_BASE, secret: SECRET }))).rejects.toThrow(
        /net\.http_post\(\) is missing/,
      );
      await admin.exec("rollback").catch(() => {});
    } finally {
      await sql`alter schema net_gone rename to net`;
    }
    const [n] = await sql`select count(*)::int as n from pg_trigger where tgname like 'd1_sync_capture_%'`;
    expect(n!.n).toBe(3 * 4);
  });
});

describe("npm run webhooks:sql: options", () => {
  const cli = (...args: string[]) =>
    promisify(execFile)(process.execPath, ["--import", "tsx", "tools/cli/webhooks-sql.ts", ...args], {
      cwd: PROJECT_ROOT,
    }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
  const base = ["--url", "https://sync.example.test/webhooks/supabase", "--secret", "s3cret"];

  it("prints statement-level capture by default, posting to <url>/batch", async () => {
    const r = await cli(...base);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("for each statement execute function sync.capture_statement(");
    expect(r.stdout).toContain("'https://sync.example.test/webhooks/supabase/batch'");
    expect(r.stdout).not.toContain("for each row");
  });

  it("prints dashboard-style row-level webhooks with --capture row", async () => {
    const r = await cli(...base, "--capture", "row");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("for each row execute function supabase_functions.http_request(");
    expect(r.stdout).not.toContain("sync.capture_statement(");
  });

  for (const [flag, value, message] of [
    ["--capture", "column", /capture must be statement or row/],
    ["--batch-rows", "1001", /batch rows must be an integer from 1 to 1000/],
    ["--batch-rows", "0", /batch rows must be an integer from 1 to 1000/],
    ["--batch-bytes", "2000000", /batch bytes must be an integer from 1024 to/],
  ] as const) {
    it(`refuses ${flag} ${value} with a clear message and prints no SQL`, async () => {
      const r = await cli(...base, flag, value);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe("");
    });
  }
});
