import { columnsOf, storesHolding } from "../../schemas/define-entity";
import { newEventId } from "../../schemas/event";
import { ENTITIES } from "../../schemas/registry";
import { utcNow } from "../../core/utc";
import type { SupabaseRpc } from "../../core/stores/supabase-rpc";

export interface Finding {
  check: string;
  store: "d1" | "supabase";
  entity?: string;
  column?: string;
  count: number;
  examples: unknown[];
}

// D1 refuses long GLOB patterns ("pattern too complex"), so shape checks are spelled out.
const IS_UUID = (c: string) =>
  `(length(${c}) = 36 AND ${c} NOT GLOB '*[^0-9a-f-]*' AND substr(${c}, 9, 1) = '-' AND substr(${c}, 14, 1) = '-' ` +
  `AND substr(${c}, 19, 1) = '-' AND substr(${c}, 24, 1) = '-')`;
// 2025-12-13T10:30:00.000Z is what every D1 timestamp must be: strftime re-renders any date it
// understands in exactly that form, so a value it changes (an offset, a space, no millis) is not.
// Year 0000 survives strftime but breaks the timestamp rule (schemas/fields.ts starts at 0001),
// and Postgres has no year 0, so such a row could never be replicated or compared.
const IS_UTC = (c: string) => `(strftime('%Y-%m-%dT%H:%M:%fZ', ${c}) IS ${c} AND ${c} >= '0001')`;

/** D1-side checks from seeds 000 and 001, as (name, SQL returning the offending ids). */
function d1Checks(): Array<Omit<Finding, "count" | "examples"> & { sql: string }> {
  const checks: Array<Omit<Finding, "count" | "examples"> & { sql: string }> = [
    {
      check: "orphaned_emails",
      store: "d1",
      entity: "emails",
      sql: "SELECT e.id FROM emails e WHERE NOT EXISTS (SELECT 1 FROM prospects p WHERE p.id = e.prospect_id)",
    },
    {
      check: "impossible_email_states",
      store: "d1",
      entity: "emails",
      sql: "SELECT id FROM emails WHERE status NOT IN ('pending','failed') AND sent_at IS NULL",
    },
    {
      check: "duplicate_prospects",
      store: "d1",
      entity: "prospects",
      sql: "SELECT lower(contact_email) AS id FROM prospects WHERE contact_email IS NOT NULL GROUP BY lower(contact_email) HAVING count(*) > 1",
    },
  ];
  // Only entities D1 holds a table of (HubSpot contacts live in Supabase alone).
  for (const e of ENTITIES.filter((x) => storesHolding(x).includes("d1"))) {
    checks.push({
      check: "ids_not_uuid",
      store: "d1",
      entity: e.name,
      sql: `SELECT id FROM "${e.table}" WHERE NOT ${IS_UUID("id")}`,
    });
    for (const c of columnsOf(e).filter((c) => c.endsWith("_at"))) {
      checks.push({
        check: "timestamps_not_utc",
        store: "d1",
        entity: e.name,
        column: c,
        sql: `SELECT id FROM "${e.table}" WHERE "${c}" IS NOT NULL AND NOT ${IS_UTC(`"${c}"`)}`,
      });
    }
  }
  return checks;
}

/**
 * Runs every integrity check in both stores (D1: one batch of queries; Supabase: one function
 * call), stores the run with its findings, and returns it. A finding carries its count and up to
 * five examples.
 */
export async function runIntegrityChecks(deps: { db: D1Database; rpc: SupabaseRpc }, trigger: "cron" | "api" = "api") {
  const startedAt = utcNow();
  const checks = d1Checks();
  const results = await deps.db.batch(
    checks.flatMap((c) => [
      deps.db.prepare(`SELECT count(*) AS n FROM (${c.sql})`),
      deps.db.prepare(`SELECT id FROM (${c.sql}) LIMIT 5`),
    ]),
  );
  const findings: Finding[] = checks.map(({ sql: _sql, ...c }, i) => ({
    ...c,
    count: Number((results[2 * i]!.results[0] as { n: number }).n),
    examples: (results[2 * i + 1]!.results as Array<{ id: unknown }>).map((r) => r.id),
  }));
  findings.push(...(await deps.rpc.call<Finding[]>("sync_integrity", {})));
  const run = {
    id: newEventId(),
    trigger,
    started_at: startedAt,
    finished_at: utcNow(),
    issues: findings.reduce((n, f) => n + f.count, 0),
    findings,
  };
  await deps.db
    .prepare(
      "INSERT INTO sync_integrity_runs (id, trigger, started_at, finished_at, issues, findings) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .bind(run.id, run.trigger, run.started_at, run.finished_at, run.issues, JSON.stringify(findings))
    .run();
  return run;
}
