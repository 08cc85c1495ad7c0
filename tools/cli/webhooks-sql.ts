/**
 * `npm run webhooks:sql -- --url https://<worker>/webhooks/supabase --secret <WEBHOOK_SECRET>`
 * prints the SQL that installs change capture on every synced table: by default statement-level
 * (statement triggers posting chunks of rows to <url>/batch through pg_net), with
 * `--capture row` the dashboard's row-level Database Webhooks. Paste it into the SQL editor or
 * pipe it to psql. With --apply, runs it against DATABASE_URL. Defaults: WEBHOOK_URL, WEBHOOK_SECRET.
 */
import { parseArgs } from "node:util";
import { postgresExecutor } from "../local/postgres-executor";
import { batchUrl, webhookTables, webhookTriggersSql, type CaptureMode } from "../deploy/webhooks-sql";
import { DEFAULT_BATCH_BYTES, DEFAULT_BATCH_ROWS } from "../../schemas/webhook-payload";

const USAGE =
  "usage: npm run webhooks:sql -- --url <worker>/webhooks/supabase --secret <secret> [--capture statement|row]\n" +
  `         [--batch-rows ${DEFAULT_BATCH_ROWS}] [--batch-bytes ${DEFAULT_BATCH_BYTES}] [--timeout-ms 5000] [--apply]`;

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
      capture: { type: "string", default: "statement" },
      "batch-rows": { type: "string", default: String(DEFAULT_BATCH_ROWS) },
      "batch-bytes": { type: "string", default: String(DEFAULT_BATCH_BYTES) },
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
  sql = webhookTriggersSql({
    url: values.url,
    secret: values.secret,
    timeoutMs: Number(values["timeout-ms"]),
    capture: values.capture as CaptureMode,
    batchRows: Number(values["batch-rows"]),
    batchBytes: Number(values["batch-bytes"]),
  });
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
    `${values.capture}-level capture installed on ${webhookTables()
      .map((t) => `public.${t}`)
      .join(", ")} -> ${values.capture === "row" ? values.url : batchUrl(values.url)}`,
  );
} catch (error) {
  console.error(`failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await db.close();
}
