/**
 * `npm run webhooks:sql -- --url https://<worker>/webhooks/supabase --secret <WEBHOOK_SECRET>`
 * prints the SQL that creates the Supabase Database Webhooks (one trigger per synced table); paste
 * it into the SQL editor or pipe it to psql. With --apply, runs it against DATABASE_URL.
 * Defaults: WEBHOOK_URL, WEBHOOK_SECRET.
 */
import { parseArgs } from "node:util";
import { postgresExecutor } from "../local/postgres-executor";
import { webhookTables, webhookTriggersSql } from "../deploy/webhooks-sql";

const USAGE =
  "usage: npm run webhooks:sql -- --url <worker>/webhooks/supabase --secret <secret> [--timeout-ms 5000] [--apply]";

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      url: { type: "string", default: process.env.WEBHOOK_URL },
      secret: { type: "string", default: process.env.WEBHOOK_SECRET },
      "timeout-ms": { type: "string", default: "5000" },
      apply: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  }));
} catch (error) {
  fail((error as Error).message);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!values.url) fail("missing --url (or WEBHOOK_URL)");
if (!values.secret) fail("missing --secret (or WEBHOOK_SECRET)");

let sql: string;
try {
  sql = webhookTriggersSql({ url: values.url, secret: values.secret, timeoutMs: Number(values["timeout-ms"]) });
} catch (error) {
  fail((error as Error).message);
}

if (!values.apply) {
  process.stdout.write(sql);
  process.exit(0);
}
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) fail("--apply needs DATABASE_URL");
const db = postgresExecutor(databaseUrl);
try {
  await db.exec(sql);
  console.log(
    `webhook triggers installed on ${webhookTables()
      .map((t) => `public.${t}`)
      .join(", ")} -> ${values.url}`,
  );
} catch (error) {
  console.error(`failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await db.close();
}
