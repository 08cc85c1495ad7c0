import { MAX_EVENT_BYTES } from "../../schemas/event";
import { ENTITIES } from "../../schemas/registry";
import {
  BATCH_WEBHOOK_BODY_LIMIT,
  DEFAULT_BATCH_BYTES,
  DEFAULT_BATCH_ROWS,
  MAX_BATCH_WEBHOOK_ROWS,
} from "../../schemas/webhook-payload";

/** Name of our trigger on each table; a Supabase webhook is just a trigger with this shape. */
export const WEBHOOK_TRIGGER = "d1_sync_webhook";
/** Statement-level capture: one trigger per event, because a trigger with a transition table
 * may fire on one event only (INSERT and UPDATE get `sync_new`, DELETE gets `sync_old`). */
export const CAPTURE_TRIGGERS = {
  insert: "d1_sync_capture_insert",
  update: "d1_sync_capture_update",
  delete: "d1_sync_capture_delete",
} as const;

/** `statement` (default): one request per chunk of a statement; `row`: a dashboard-style webhook per row. */
export type CaptureMode = "statement" | "row";

export interface WebhookOptions {
  /** Where the worker receives webhooks, e.g. https://sync.example.workers.dev/webhooks/supabase */
  url: string;
  /** The worker's WEBHOOK_SECRET, sent as `Authorization: Bearer <secret>`. */
  secret: string;
  /** pg_net request timeout. */
  timeoutMs?: number;
  /** Default `statement`; see README, "Statement-level capture". */
  capture?: CaptureMode;
  /** Statement capture: rows per request at most (≤ MAX_BATCH_WEBHOOK_ROWS). */
  batchRows?: number;
  /** Statement capture: bytes of row text per request before a new request starts. */
  batchBytes?: number;
}

/** Tables whose changes the worker must hear about: Supabase-authoritative and replicated. */
export function webhookTables(): string[] {
  return ENTITIES.filter((e) => e.authority === "supabase" && e.replica !== null).map((e) => e.table);
}

/** A SQL string literal. standard_conforming_strings is on (the default since 9.1), so only
 * quotes need doubling; NUL cannot be stored in text at all, so it is refused. */
export function sqlLiteral(value: string): string {
  if (value.includes("\0")) throw new Error("value contains a NUL character");
  return `'${value.replaceAll("'", "''")}'`;
}

function sqlIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The URL statement capture posts to: the batch endpoint under the webhook URL. */
export function batchUrl(url: string): string {
  return `${url.replace(/\/+$/, "")}/batch`;
}

/**
 * The SQL that installs change capture for every synced table, in one transaction (a failure
 * leaves the old triggers in place). Idempotent: re-running replaces the triggers, so it also
 * rotates the URL or secret, and it removes the other mode's triggers, so a table never has both.
 *
 * capture "statement" (default): three statement triggers per table calling
 * sync.capture_statement (migration 0011), posting to `<url>/batch`:
 *
 *   create trigger d1_sync_capture_update after update on public.prospects
 *     referencing new table as sync_new for each statement execute function sync.capture_statement(
 *       'https://…/webhooks/supabase/batch', '{"Content-Type":"application/json","Authorization":"Bearer …"}',
 *       '5000', '500', '524288', '122880');
 *
 * capture "row": exactly what the dashboard's Database Webhooks create, one row trigger per table:
 *
 *   create trigger d1_sync_webhook after insert or update or delete on public.prospects
 *     for each row execute function supabase_functions.http_request(
 *       'http://127.0.0.1:8787/webhooks/supabase', 'POST',
 *       '{"Content-Type":"application/json","Authorization":"Bearer …"}', '{}', '5000');
 */
export function webhookTriggersSql({
  url,
  secret,
  timeoutMs = 5000,
  capture = "statement",
  batchRows = DEFAULT_BATCH_ROWS,
  batchBytes = DEFAULT_BATCH_BYTES,
}: WebhookOptions): string {
  const parsed = new URL(url); // throws on a malformed URL
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw new Error(`webhook url must be http(s): ${url}`);
  if (!secret || /[\s\p{Cc}]/u.test(secret))
    throw new Error("webhook secret must be non-empty, without spaces or control characters");
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
    throw new Error(`timeoutMs must be a positive integer: ${timeoutMs}`);
  if (capture !== "statement" && capture !== "row") throw new Error(`capture must be statement or row: ${capture}`);
  if (!Number.isInteger(batchRows) || batchRows < 1 || batchRows > MAX_BATCH_WEBHOOK_ROWS)
    throw new Error(`batch rows must be an integer from 1 to ${MAX_BATCH_WEBHOOK_ROWS}: ${batchRows}`);
  // A request holds up to batchBytes plus the row that crosses it (≤ MAX_EVENT_BYTES) plus the
  // envelope; it must stay inside the endpoint's body limit.
  const maxBatchBytes = BATCH_WEBHOOK_BODY_LIMIT - MAX_EVENT_BYTES - 16 * 1024;
  if (!Number.isInteger(batchBytes) || batchBytes < 1024 || batchBytes > maxBatchBytes)
    throw new Error(`batch bytes must be an integer from 1024 to ${maxBatchBytes}: ${batchBytes}`);

  const headers = JSON.stringify({ "Content-Type": "application/json", Authorization: `Bearer ${secret}` });
  const lines = [
    `-- Change capture for supabase-d1-sync, ${capture}-level (generated by \`npm run webhooks:sql\`).`,
    "begin;",
    "do $$ begin",
    ...(capture === "row"
      ? [
          "  if to_regproc('supabase_functions.http_request') is null then",
          "    raise exception 'supabase_functions.http_request() is missing: enable Database Webhooks in the Supabase dashboard (Database > Webhooks) first';",
          "  end if;",
        ]
      : [
          "  if not exists (select 1 from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace",
          "                 where n.nspname = 'net' and p.proname = 'http_post') then",
          "    raise exception 'net.http_post() is missing: enable the pg_net extension (Database > Extensions, or: create extension pg_net) first';",
          "  end if;",
          "  if to_regproc('sync.capture_statement') is null then",
          "    raise exception 'sync.capture_statement() is missing: apply migrations/supabase/0011_statement_capture.sql first';",
          "  end if;",
        ]),
    "end $$;",
  ];
  const rowArgs = [url, "POST", headers, "{}", String(timeoutMs)].map(sqlLiteral).join(", ");
  const statementArgs = [batchUrl(url), headers, timeoutMs, batchRows, batchBytes, MAX_EVENT_BYTES]
    .map((v) => sqlLiteral(String(v)))
    .join(", ");
  for (const table of webhookTables()) {
    const target = `public.${sqlIdent(table)}`;
    lines.push(
      `drop trigger if exists ${WEBHOOK_TRIGGER} on ${target};`,
      ...Object.values(CAPTURE_TRIGGERS).map((t) => `drop trigger if exists ${t} on ${target};`),
    );
    if (capture === "row") {
      lines.push(
        `create trigger ${WEBHOOK_TRIGGER} after insert or update or delete on ${target}`,
        `  for each row execute function supabase_functions.http_request(${rowArgs});`,
      );
      continue;
    }
    const events = [
      ["insert", "new table as sync_new"],
      ["update", "new table as sync_new"],
      ["delete", "old table as sync_old"],
    ] as const;
    for (const [event, referencing] of events) {
      lines.push(
        `create trigger ${CAPTURE_TRIGGERS[event]} after ${event} on ${target} referencing ${referencing}`,
        `  for each statement execute function sync.capture_statement(${statementArgs});`,
      );
    }
  }
  lines.push("commit;", "");
  return lines.join("\n");
}

/** Drops every capture trigger of ours, both modes (the bench switches modes with it). */
export function dropCaptureSql(): string {
  return webhookTables()
    .flatMap((table) =>
      [WEBHOOK_TRIGGER, ...Object.values(CAPTURE_TRIGGERS)].map(
        (t) => `drop trigger if exists ${t} on public.${sqlIdent(table)};`,
      ),
    )
    .join("\n");
}
