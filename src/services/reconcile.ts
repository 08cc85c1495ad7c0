import { canonicalRow } from "../../schemas/canonical-row";
import { newEventId } from "../../schemas/event";
import type { EntityDefinition } from "../../schemas/define-entity";
import { utcNow } from "../lib/utc";
import type { PageReader, Repair, Repairer } from "../stores/store-pages";

type Row = Record<string, unknown>;

export interface ReconcileOptions {
  repair: boolean;
  /** Row budget of one run per entity: a larger table is finished by the next runs (resume). */
  maxRows?: number;
  pageSize?: number;
  /** Restrict to ids in (after, until]; default: the whole key space, resuming a partial run. */
  after?: string | null;
  until?: string | null;
  /** Source rows changed this recently may still be on their way; they are checked next run. */
  graceSeconds?: number;
  trigger?: "cron" | "api";
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
  examples: Record<"missing" | "extra" | "altered", string[]>;
  resume_after: string | null;
  error?: string;
}

/**
 * Compares one entity's authoritative store with its replica over pages of the key space (each
 * page is a bucket: the source's next `pageSize` ids and every replica id in the same range).
 * A page whose digests agree costs nothing more; a differing page is compared row by row on the
 * canonical image, and (if `repair`) the replica is made equal to the source by compare-and-set
 * writes, so the writes are proportional to the differences and never overwrite a live change.
 *
 * Why the rows are read, not only checksums: D1 has no hash function, and an out-of-band edit of
 * a replica row keeps its version, so only its content can reveal it. Reads are paged and bounded
 * by `maxRows` per run.
 */
export async function reconcileEntity(
  deps: { source: PageReader; replica: PageReader; repairer: Repairer; db: D1Database },
  entity: EntityDefinition,
  opts: ReconcileOptions,
): Promise<ReconcileRun> {
  const pageSize = opts.pageSize ?? 1000;
  const maxRows = opts.maxRows ?? 50_000;
  const graceMs = (opts.graceSeconds ?? 60) * 1000;
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
    examples: { missing: [], extra: [], altered: [] },
    resume_after: null,
  };
  const startedAt = utcNow();
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
      const repairs = diffPage(entity, source, replica, run, Date.now() - graceMs);
      if (repairs.length) {
        run.pages_differing++;
        if (opts.repair) {
          const changed = await deps.repairer.repair(entity.name, repairs);
          run.repaired += changed;
          run.skipped += repairs.length - changed;
        }
      }
      cursor = upper;
      if (!full) break;
      if (run.rows_checked >= maxRows) {
        run.status = "partial";
        run.resume_after = cursor;
        break;
      }
    }
  } catch (error) {
    run.status = "failed";
    run.resume_after = cursor;
    run.error = error instanceof Error ? error.message : String(error);
  }
  await saveRun(deps.db, run, opts, startedAt);
  return run;
}

/** Row-by-row comparison of one page; returns the repairs that make the replica equal. */
function diffPage(entity: EntityDefinition, source: Row[], replica: Row[], run: ReconcileRun, graceCutoff: number): Repair[] {
  const image = (row: Row) => canonicalRow(entity.name, row);
  const replicaById = new Map(replica.map((r) => [String(r.id), r]));
  if (digest(entity, source) === digest(entity, replica)) return [];
  const repairs: Repair[] = [];
  const note = (kind: "missing" | "extra" | "altered", id: string) => {
    run[kind]++;
    if (run.examples[kind].length < 5) run.examples[kind].push(id);
  };
  for (const row of source) {
    const id = String(row.id);
    const copy = replicaById.get(id);
    replicaById.delete(id);
    const wanted = image(row);
    if (copy && text(entity, copy) === JSON.stringify(wanted)) continue;
    if (Date.parse(String(wanted.updated_at)) > graceCutoff) continue; // probably in flight
    const seen = copy ? Number(copy.version) : null;
    note(copy === undefined || (seen ?? 0) < Number(wanted.version) ? "missing" : "altered", id);
    repairs.push({ op: "put", id, expected: seen, row: wanted });
  }
  for (const [id, copy] of replicaById) {
    note("extra", id);
    repairs.push({ op: "remove", id, expected: Number(copy.version), row: null });
  }
  return repairs;
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

async function readAll(reader: PageReader, entity: string, after: string | null, until: string | null, pageSize: number): Promise<Row[]> {
  const rows: Row[] = [];
  for (let from = after; ; ) {
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

async function saveRun(db: D1Database, run: ReconcileRun, opts: ReconcileOptions, startedAt: string): Promise<void> {
  await db
    .prepare(
      `INSERT INTO sync_reconcile_runs (id, entity, trigger, repair, started_at, finished_at, status, rows_checked, pages,
         pages_differing, missing, extra, altered, repaired, skipped, examples, resume_after, error)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)`,
    )
    .bind(
      run.id, run.entity, opts.trigger ?? "api", opts.repair ? 1 : 0, startedAt, utcNow(), run.status, run.rows_checked, run.pages,
      run.pages_differing, run.missing, run.extra, run.altered, run.repaired, run.skipped, JSON.stringify(run.examples),
      run.resume_after, run.error ?? null,
    )
    .run();
}
