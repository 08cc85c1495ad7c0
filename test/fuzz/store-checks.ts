import { columnsOf } from "../../schemas/define-entity";
import { storesHolding } from "../../schemas/define-entity";
import { ENTITIES } from "../../schemas/registry";
import { formatIssuesPlain } from "./text";
import type { FuzzStack } from "./fuzz-stack";

/** A row in a store that its entity's own zod row schema (schemas/) refuses. */
export interface SchemaBreak {
  store: "d1" | "postgres";
  entity: string;
  id: string;
  issues: string;
  row: Record<string, unknown>;
}

/** A row (or tombstone, or failed task) no accepted request explains. */
export interface Unattributed {
  store: "d1" | "postgres";
  table: string;
  id: string;
}

export interface Attribution {
  /** `entity:id` of every row an accepted (2xx) request created, updated or deleted, plus the seed. */
  rowKeys: Set<string>;
}

export interface StoreReport {
  rowsChecked: { d1: number; postgres: number };
  schemaBreaks: SchemaBreak[];
  unattributed: Unattributed[];
  /** D1 `PRAGMA quick_check` (checks NOT NULL and CHECK constraints too) when not "ok". */
  d1Integrity: string[];
  /** Postgres constraints marked NOT VALID (they would not have been checked on old rows). */
  postgresUnvalidated: string[];
  failedTasks: Array<{ error_code: string; entity: string | null; row_id: string | null; error_message: string }>;
}

/** D1 keeps booleans as 0/1; the schema wants booleans (same rule as canonical-row.ts). */
function d1Image(entity: (typeof ENTITIES)[number], row: Record<string, unknown>): Record<string, unknown> {
  const shape = entity.row.shape as Record<string, { type?: string }>;
  const out: Record<string, unknown> = {};
  for (const c of columnsOf(entity)) {
    const v = row[c];
    out[c] = (v === 0 || v === 1) && shape[c]?.type === "boolean" ? v === 1 : v;
  }
  return out;
}

/**
 * After the run drained: every row of every synced entity, in both stores, must parse with the
 * entity's own row schema; D1's constraints must hold (PRAGMA quick_check) and Postgres must
 * have no unvalidated constraint; and every row must be explained by an accepted request.
 */
export async function checkStores(stack: FuzzStack, attribution: Attribution): Promise<StoreReport> {
  const report: StoreReport = {
    rowsChecked: { d1: 0, postgres: 0 },
    schemaBreaks: [],
    unattributed: [],
    d1Integrity: [],
    postgresUnvalidated: [],
    failedTasks: [],
  };
  for (const entity of ENTITIES) {
    // Only the stores that hold a table of it (HubSpot contacts: Supabase alone).
    const held = storesHolding(entity);
    const d1Rows = held.includes("d1")
      ? await stack.d1.query<Record<string, unknown>>(`SELECT * FROM "${entity.table}"`)
      : [];
    const pgRows = held.includes("supabase")
      ? (await stack.sql.unsafe(`select to_jsonb(t) as j from public."${entity.table}" t`)).map(
          (r) => r.j as Record<string, unknown>,
        )
      : [];
    for (const [store, rows] of [
      ["d1", d1Rows],
      ["postgres", pgRows],
    ] as const) {
      report.rowsChecked[store] += rows.length;
      for (const row of rows) {
        const image = store === "d1" ? d1Image(entity, row) : row;
        const parsed = entity.row.safeParse(image);
        const id = String(row.id);
        if (!parsed.success)
          report.schemaBreaks.push({ store, entity: entity.name, id, issues: formatIssuesPlain(parsed.error), row });
        if (!attribution.rowKeys.has(`${entity.name}:${id.toLowerCase()}`))
          report.unattributed.push({ store, table: entity.table, id });
      }
    }
  }
  const tombstones = await stack.d1.query<{ entity: string; id: string }>("SELECT entity, id FROM sync_tombstones");
  for (const t of tombstones)
    if (!attribution.rowKeys.has(`${t.entity}:${t.id.toLowerCase()}`))
      report.unattributed.push({ store: "d1", table: "sync_tombstones", id: `${t.entity}:${t.id}` });

  // D1 refuses integrity_check (SQLITE_AUTH) but allows quick_check, which also verifies NOT NULL
  // and CHECK constraints (it skips only UNIQUE and index-content checks).
  const integrity = await stack.d1.query<Record<string, unknown>>("PRAGMA quick_check");
  report.d1Integrity = integrity.map((r) => String(Object.values(r)[0])).filter((line) => line !== "ok");
  const unvalidated = await stack.sql<
    Array<{ c: string }>
  >`select conrelid::regclass::text || '.' || conname as c from pg_constraint where not convalidated`;
  report.postgresUnvalidated = unvalidated.map((r) => r.c);

  // Plans freeze their selection by inserting items first and delete them when they refuse: none
  // may be left without its plan.
  const [orphans] = await stack.d1.query<{ n: number }>(
    "SELECT count(*) AS n FROM replay_plan_items WHERE plan_id NOT IN (SELECT id FROM replay_plans)",
  );
  if (orphans!.n > 0)
    report.unattributed.push({ store: "d1", table: "replay_plan_items", id: `${orphans!.n} items of no plan` });

  report.failedTasks = await stack.d1.query(
    "SELECT error_code, entity, row_id, error_message FROM failed_tasks ORDER BY error_code, id",
  );
  for (const t of report.failedTasks) {
    if (t.entity && t.row_id && !attribution.rowKeys.has(`${t.entity}:${t.row_id.toLowerCase()}`)) {
      report.unattributed.push({ store: "d1", table: "failed_tasks", id: `${t.entity}:${t.row_id} (${t.error_code})` });
    }
  }
  return report;
}

/** Waits until the queues have drained: the consumers' own counters, failed tasks and the replica of emails stop moving. */
export async function drain(
  stack: FuzzStack,
  opts: { timeoutMs: number; log: (line: string) => void },
): Promise<boolean> {
  const deadline = Date.now() + opts.timeoutMs;
  let last = "";
  let stable = 0;
  while (Date.now() < deadline) {
    await stack.fireCron();
    await new Promise((r) => setTimeout(r, 2000));
    const [d1] = await stack.d1.query<{ events: number; tasks: number; failures: number; unpublished: number }>(
      `SELECT (SELECT coalesce(sum(applied_total + stale_total + failed_total), 0) FROM sync_entity_state) AS events,
              (SELECT count(*) FROM failed_tasks) AS tasks,
              (SELECT coalesce(sum(failure_count), 0) FROM failed_tasks) AS failures,
              (SELECT count(*) FROM sync_outbox WHERE published_at IS NULL) AS unpublished`,
    );
    const [pg] = await stack.sql<Array<{ n: number }>>`select count(*)::int as n from public.emails`;
    const now = JSON.stringify({ ...d1, pgEmails: pg!.n });
    stable = now === last ? stable + 1 : 0;
    last = now;
    if (stable >= 2) {
      opts.log(`drained: ${now}`);
      return true;
    }
  }
  opts.log(`not drained after ${opts.timeoutMs} ms: ${last}`);
  return false;
}
