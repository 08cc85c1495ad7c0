/**
 * `npx tsx bench/profile-capture.ts [--rows 10000] [--iterations 5]`: what capture costs the
 * writer, on the Postgres side alone (no worker, no relay: the requests stay in the local pg_net
 * stand-in's queue, which is what pg_net's own http_post does too, an insert into its queue).
 *
 * One `update … where` statement changing `rows` prospects, timed from Node until it returned
 * (autocommit, durable commits as in `npm run bench`), with no capture trigger, with row-level
 * webhooks (supabase_functions.http_request per row) and with statement-level capture
 * (sync.capture_statement per statement), interleaved per iteration. Prints ms per statement
 * (median, min) and the requests each queued.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { dropCaptureSql, webhookTriggersSql, type CaptureMode } from "../tools/deploy/webhooks-sql";
import { postgresExecutor } from "../tools/local/postgres-executor";
import { applySupabaseMigrations } from "../tools/local/supabase-migrations";
import { applySupabaseRoles } from "../tools/local/supabase-roles";
import { PROJECT_ROOT } from "../tools/local/wrangler";
import { benchDatabase } from "./postgres";
import { median } from "./stats";

const { values: flags } = parseArgs({ options: { rows: { type: "string" }, iterations: { type: "string" } } });
const ROWS = Number(flags.rows ?? 10_000);
const ITERATIONS = Number(flags.iterations ?? 5);

const database = await benchDatabase();
const admin = postgresExecutor(database.url);
const sql = postgres(database.url, { max: 1, onnotice: () => {} });
try {
  await applySupabaseRoles(admin);
  await applySupabaseMigrations(admin);
  await admin.exec(await readFile(join(PROJECT_ROOT, "migrations/dev/pg_net_shim.sql"), "utf8"));
  await sql`insert into prospects (name, city, country, contact_name, contact_email, contact_title, website, tier, lead_source)
            select 'profile ' || g, 'Zürich', 'CH', 'Anna Muster', 'gm.' || g || '@profile.test', 'General Manager',
                   'https://bellevue.test', 'A', 'profile' from generate_series(1, ${ROWS}::int) g`;
  const modes: Array<CaptureMode | "none"> = ["none", "row", "statement"];
  const ms: Record<string, number[]> = { none: [], row: [], statement: [] };
  const requests: Record<string, number> = {};
  for (let i = 0; i < ITERATIONS; i++) {
    for (const mode of i % 2 ? [...modes].reverse() : modes) {
      await admin.exec(dropCaptureSql());
      if (mode !== "none")
        await admin.exec(
          webhookTriggersSql({ url: "http://127.0.0.1:9/webhooks/supabase", secret: "p", capture: mode }),
        );
      await sql`delete from net.http_request_queue`;
      const started = performance.now();
      await sql`update prospects set score = score + 1 where lead_source = 'profile'`;
      ms[mode]!.push(performance.now() - started);
      requests[mode] = (await sql`select count(*)::int as n from net.http_request_queue`)[0]!.n as number;
    }
  }
  console.log(`one UPDATE of ${ROWS} rows, ${ITERATIONS} iterations (ms per statement, median / min):`);
  for (const mode of modes) {
    const sorted = [...ms[mode]!].sort((a, b) => a - b);
    console.log(
      `  ${mode.padEnd(9)} ${median(sorted).toFixed(0)} / ${sorted[0]!.toFixed(0)} ms, ${requests[mode]} requests queued`,
    );
  }
} finally {
  await sql.end({ timeout: 5 });
  await admin.close();
  await database.drop();
}
