import { z } from "zod";
import { canonicalRow } from "../../schemas/canonical-row";
import { newEventId } from "../../schemas/event";
import type { EntityDefinition } from "../../schemas/define-entity";
import { describe } from "../../core/errors";
import { jsonChunks } from "../../core/batching/json-chunks";
import { utcNow } from "../../core/utc";
import { formatIssues } from "../../core/zod-issues";
import type { RowState } from "../../core/stores/row-state";
import { SETTINGS } from "../../core/settings";
import type { PageReader, Repair, Repairer } from "../../core/stores/store-pages";
import { recordRowFailures, type RowFailure } from "../../core/ledger/row-failures";

type Row = Record<string, unknown>;

/** Default grace: a row changed this recently may still be on its way through the queues. */
export const DEFAULT_RECONCILE_GRACE_SECONDS = SETTINGS.RECONCILE_GRACE_SECONDS.default;
/** Problem rows kept in a run's record (the counts are exact; the list is for the operator). */
const MAX_PROBLEMS = 50;

export interface ReconcileOptions {
  repair: boolean;
  /** Row budget of one run per entity: a larger table is finished by the next runs (resume). */
  maxRows?: number;
  pageSize?: number;
  /** Restrict to ids in (after, until]; default: the whole key space, resuming a partial run. */
  after?: string | null;
  until?: string | null;
  /**
   * Rows changed this recently (by their updated_at) may still be on their way: a source row is
   * not repaired and a replica row the source lacks is not deleted until it is older.
   */
  graceSeconds?: number;
  trigger?: "cron" | "api";
  /** The audit line of an operator's run, committed in the same D1 batch as the run's record. */
  audit?: (run: ReconcileRun) => D1PreparedStatement;
}

/** A row reconciliation could not make equal: reported with its reason, never a reason to stop. */
export interface ReconcileProblem {
  id: string;
  kind: "invalid" | "regressed";
  code: string;
  reason: string;
  source_version?: number;
  replica_version?: number;
  /** For a regression: whether the replica holds a newer row or a tombstone. */
  replica_state?: "row" | "tombstone";
}

export interface ReconcileRun {
  id: string;
  entity: string;
  status: "complete" | "partial" | "failed";
  rows_checked: number;
  pages: number;
  pages_differing: number;
  missing: number;
  extra: number;
  altered: number;
  repaired: number;
  skipped: number;
  /** Source rows our schema or the replica refused: reported, skipped, the run went on. */
  invalid: number;
  /** Source rows older than the replica's row or tombstone: see src/services/regressions.ts. */
  regressed: number;
  examples: Record<"missing" | "extra" | "altered", string[]>;
  problems: ReconcileProblem[];
  resume_after: string | null;
  error?: string;
}

type InvalidRow = RowFailure;

export interface ReconcileDeps {
  source: PageReader;
  replica: PageReader;
  repairer: Repairer;
  /** Re-reads of single rows, to tell a race (a live change meanwhile) from a real difference. */
  sourceState: RowState;
  replicaState: RowState;
  db: D1Database;
}

/**
 * Compares one entity's authoritative store with its replica over pages of the key space (each
 * page is a bucket: the source's next `pageSize` ids and every replica id in the same range).
 * A page whose digests agree costs nothing more; a differing page is compared row by row on the
 * canonical image, and (if `repair`) the replica is made equal to the source by compare-and-set
 * writes, so the writes are proportional to the differences.
 *
 * Why the rows are read, not only checksums: D1 has no hash function, and an out-of-band edit of
 * a replica row keeps its version, so only its content can reveal it. Reads are paged and bounded
 * by `maxRows` per run.
 *
 * The reads are not one snapshot: the source is read, then the replica, then the repair is
 * written, and live events land in between. So a repair never follows the first reading alone:
 *  - a replica row newer than the source row, or a replica tombstone at or above it, is checked
 *    again at the source; if the source has caught up, an event landed between the reads (left
 *    for the next run); if not, the source went back in time (a point-in-time restore): the row
 *    is reported as regressed and left alone, for an operator to resolve deliberately;
 *  - a replica row the source lacks is deleted only if it is older than the grace period and the
 *    source still lacks it when checked again;
 *  - the repair itself is compare-and-set on the version seen, never lowers a version and never
 *    writes over a tombstone at the image's version or newer (a delete landing meanwhile).
 * One row that cannot be compared (our schema refuses it) or written (the replica refuses it) is
 * reported and skipped; the run goes on and the cursor moves past it.
 */
export async function reconcileEntity(
  deps: ReconcileDeps,
  entity: EntityDefinition,
  opts: ReconcileOptions,
): Promise<ReconcileRun> {
  const pageSize = opts.pageSize ?? 1000;
  const maxRows = opts.maxRows ?? 50_000;
  const graceMs = (opts.graceSeconds ?? DEFAULT_RECONCILE_GRACE_SECONDS) * 1000;
  const run: ReconcileRun = {
    id: newEventId(),
    entity: entity.name,
    status: "complete",
    rows_checked: 0,
    pages: 0,
    pages_differing: 0,
    missing: 0,
    extra: 0,
    altered: 0,
    repaired: 0,
    skipped: 0,
    invalid: 0,
    regressed: 0,
    examples: { missing: [], extra: [], altered: [] },
    problems: [],
    resume_after: null,
  };
  const startedAt = utcNow();
  // Every regression of the run (the run's problems keep only the first few): one sync_regressions row each.
  const regressions: ReconcileProblem[] = [];
  let cursor = opts.after !== undefined ? opts.after : await resumePoint(deps.db, entity.name);
  const until = opts.until ?? null;
  try {
    for (;;) {
      const source = await deps.source.read(entity.name, cursor, until, pageSize);
      const full = source.length === pageSize;
      const upper = full ? String(source[source.length - 1]!.id) : until;
      const replica = await readAll(deps.replica, entity.name, cursor, upper, pageSize);
      run.pages++;
      run.rows_checked += source.length;
      const invalid: InvalidRow[] = [];
      const repairs = await diffPage(deps, entity, source, replica, run, Date.now() - graceMs, invalid, regressions);
      if (repairs.length && opts.repair) await repairAll(deps.repairer, entity, repairs, run, invalid);
      // A report-only run changes nothing, the ledger included.
      if (invalid.length && opts.repair)
        await recordRowFailures(deps.db, entity, "reconcile", `reconcile:${run.id}`, invalid);
      cursor = upper;
      if (!full) break;
      if (run.rows_checked >= maxRows) {
        run.status = "partial";
        run.resume_after = cursor;
        break;
      }
    }
  } catch (error) {
    // Only a failure of a whole read or write (a store down) gets here: resume at this page.
    run.status = "failed";
    run.resume_after = cursor;
    run.error = error instanceof Error ? error.message : String(error);
  }
  await saveRun(deps.db, run, regressions, opts, startedAt);
  return run;
}

/** Row-by-row comparison of one page; returns the repairs that make the replica equal. */
async function diffPage(
  deps: ReconcileDeps,
  entity: EntityDefinition,
  source: Row[],
  replica: Row[],
  run: ReconcileRun,
  graceCutoff: number,
  invalid: InvalidRow[],
  regressions: ReconcileProblem[],
): Promise<Repair[]> {
  if (digest(entity, source) === digest(entity, replica)) return [];
  run.pages_differing++;
  const replicaById = new Map(replica.map((r) => [String(r.id), r]));
  const note = (kind: "missing" | "extra" | "altered", id: string) => {
    run[kind]++;
    if (run.examples[kind].length < 5) run.examples[kind].push(id);
  };
  const repairs: Repair[] = [];
  /** Source rows the replica may hold newer (row or tombstone): re-checked below. */
  const suspects: Array<{ id: string; wanted: Row; seen: number | null }> = [];
  for (const row of source) {
    const id = String(row.id);
    const copy = replicaById.get(id);
    replicaById.delete(id);
    let wanted: Row;
    try {
      wanted = canonicalRow(entity.name, row);
    } catch (error) {
      const reason = reasonOf(entity, error);
      problem(run, { id, kind: "invalid", code: "SCHEMA_VIOLATION", reason, source_version: Number(row.version) });
      invalid.push({ row, code: "SCHEMA_VIOLATION", reason });
      continue;
    }
    if (copy && text(entity, copy) === JSON.stringify(wanted)) continue;
    if (Date.parse(String(wanted.updated_at)) > graceCutoff) continue; // probably in flight
    const seen = copy ? Number(copy.version) : null;
    const version = Number(wanted.version);
    if (seen !== null && seen === version) {
      note("altered", id); // same version, other content: an out-of-band edit of the replica
      repairs.push({ op: "put", id, expected: seen, row: wanted });
    } else suspects.push({ id, wanted, seen });
  }

  // Absent or older in the replica, unless a tombstone or a newer row says otherwise.
  const held = suspects.length
    ? await deps.replicaState.versions(
        entity,
        suspects.map((s) => s.id),
      )
    : new Map<string, number>();
  const ahead: Array<{ id: string; wanted: Row; seen: number | null; replica: number }> = [];
  for (const s of suspects) {
    const replicaVersion = Math.max(held.get(s.id) ?? 0, s.seen ?? 0);
    if (replicaVersion < Number(s.wanted.version)) {
      note("missing", s.id);
      repairs.push({ op: "put", id: s.id, expected: s.seen, row: s.wanted });
    } else ahead.push({ ...s, replica: replicaVersion });
  }
  const extras = [...replicaById.values()].filter((copy) => {
    const changed = Date.parse(String(copy.updated_at));
    return !(Number.isFinite(changed) && changed > graceCutoff); // a row created a moment ago may not be at the source's read yet
  });

  if (ahead.length || extras.length) {
    const ids = [...ahead.map((a) => a.id), ...extras.map((e) => String(e.id))];
    const now = await deps.sourceState.current(entity, ids);
    for (const a of ahead) {
      const current = now.get(a.id);
      if (current && current.version >= a.replica) {
        run.skipped++; // the source moved on between the reads: an event is on its way
        continue;
      }
      run.regressed++;
      const regression: ReconcileProblem = {
        id: a.id,
        kind: "regressed",
        code: "VERSION_REGRESSION",
        reason: `the source holds version ${Number(a.wanted.version)}, below the replica's ${a.seen === a.replica ? "row" : "tombstone"} at ${a.replica}`,
        source_version: Number(a.wanted.version),
        replica_version: a.replica,
        replica_state: a.seen === a.replica ? "row" : "tombstone",
      };
      regressions.push(regression);
      problem(run, regression);
    }
    for (const copy of extras) {
      const id = String(copy.id);
      if (now.get(id)?.row) {
        run.skipped++; // created at the source after its page was read
        continue;
      }
      note("extra", id);
      repairs.push({ op: "remove", id, expected: Number(copy.version), row: null });
    }
  }
  return repairs;
}

/**
 * Writes a page's repairs in one call; if the replica refuses the call for a reason about the
 * data, each repair is written alone, so one row it cannot take is reported instead of failing
 * the page (and every later run at the same page).
 */
async function repairAll(
  repairer: Repairer,
  entity: EntityDefinition,
  repairs: Repair[],
  run: ReconcileRun,
  invalid: InvalidRow[],
): Promise<void> {
  try {
    const changed = await repairer.repair(entity.name, repairs);
    run.repaired += changed;
    run.skipped += repairs.length - changed;
    return;
  } catch (error) {
    const info = describe(error);
    if (info.retryable) throw error;
    if (repairs.length === 1) {
      const r = repairs[0]!;
      problem(run, {
        id: r.id,
        kind: "invalid",
        code: info.code,
        reason: info.message,
        ...(r.row ? { source_version: Number(r.row.version) } : {}),
      });
      if (r.row) invalid.push({ row: r.row, code: info.code, reason: info.message });
      return;
    }
  }
  for (const r of repairs) await repairAll(repairer, entity, [r], run, invalid);
}

function problem(run: ReconcileRun, p: ReconcileProblem): void {
  if (p.kind === "invalid") run.invalid++;
  if (run.problems.length < MAX_PROBLEMS) run.problems.push(p);
}

function reasonOf(entity: EntityDefinition, error: unknown): string {
  return `${entity.name} row is invalid: ${error instanceof z.ZodError ? formatIssues(error) : error instanceof Error ? error.message : String(error)}`;
}

/** Page digest: order-independent over the canonical images (FNV-1a per row, summed). */
function digest(entity: EntityDefinition, rows: Row[]): string {
  let sum = 0n;
  for (const row of rows) sum = (sum + fnv1a64(text(entity, row))) & 0xffffffffffffffffn;
  return `${rows.length}:${sum.toString(16)}`;
}

function text(entity: EntityDefinition, row: Row): string {
  try {
    return JSON.stringify(canonicalRow(entity.name, row));
  } catch {
    return `invalid:${JSON.stringify(row)}`; // a corrupt replica row never equals a source image
  }
}

function fnv1a64(s: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < s.length; i++) {
    h ^= BigInt(s.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}

async function readAll(
  reader: PageReader,
  entity: string,
  after: string | null,
  until: string | null,
  pageSize: number,
): Promise<Row[]> {
  const rows: Row[] = [];
  for (let from = after; ;) {
    const page = await reader.read(entity, from, until, pageSize);
    rows.push(...page);
    if (page.length < pageSize) return rows;
    from = String(page[page.length - 1]!.id);
  }
}

async function resumePoint(db: D1Database, entity: string): Promise<string | null> {
  const last = await db
    .prepare("SELECT status, resume_after FROM sync_reconcile_runs WHERE entity = ?1 ORDER BY id DESC LIMIT 1")
    .bind(entity)
    .first<{ status: string; resume_after: string | null }>();
  return last && last.status !== "complete" ? last.resume_after : null;
}

/**
 * The run's record, the regressions it found (kept until an operator resolves them) and the
 * operator's audit line, in one D1 batch.
 */
async function saveRun(
  db: D1Database,
  run: ReconcileRun,
  regressions: ReconcileProblem[],
  opts: ReconcileOptions,
  startedAt: string,
): Promise<void> {
  const now = utcNow();
  const statements = [
    db
      .prepare(
        `INSERT INTO sync_reconcile_runs (id, entity, trigger, repair, started_at, finished_at, status, rows_checked, pages,
           pages_differing, missing, extra, altered, repaired, skipped, examples, resume_after, error, invalid, regressed, problems)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)`,
      )
      .bind(
        run.id,
        run.entity,
        opts.trigger ?? "api",
        opts.repair ? 1 : 0,
        startedAt,
        now,
        run.status,
        run.rows_checked,
        run.pages,
        run.pages_differing,
        run.missing,
        run.extra,
        run.altered,
        run.repaired,
        run.skipped,
        JSON.stringify(run.examples),
        run.resume_after,
        run.error ?? null,
        run.invalid,
        run.regressed,
        JSON.stringify(run.problems),
      ),
  ];
  for (const chunk of jsonChunks(regressions)) {
    statements.push(
      db
        .prepare(
          `INSERT INTO sync_regressions (entity, id, source_version, replica_version, replica_state, run_id, first_seen_at, last_seen_at)
           SELECT ?1, json_extract(j.value, '$.id'), json_extract(j.value, '$.source_version'), json_extract(j.value, '$.replica_version'),
                  json_extract(j.value, '$.replica_state'), ?2, ?3, ?3
             FROM json_each(?4) j WHERE true
           ON CONFLICT (entity, id) DO UPDATE SET source_version = excluded.source_version, replica_version = excluded.replica_version,
             replica_state = excluded.replica_state, run_id = excluded.run_id, last_seen_at = excluded.last_seen_at,
             status = 'open', resolved_at = NULL, resolved_by = NULL, resolved_version = NULL`,
        )
        .bind(run.entity, run.id, now, JSON.stringify(chunk)),
    );
  }
  if (opts.audit) statements.push(opts.audit(run));
  await db.batch(statements);
}
