import type postgres from "postgres";
import { sleep } from "./stats";

/**
 * A steady, open-loop write load on Postgres: `rate` changes per second for `seconds`, each an
 * autocommit statement on a Supabase-authoritative table (half inserts of new prospects, half
 * updates of prospects this load inserted). Open loop: a slow commit does not slow the schedule
 * (up to `maxInFlight` statements in flight; beyond that the load falls behind and says so).
 *
 * Each commit is noted as `id:version` → the time the commit returned (Date.now(), the clock the
 * worker's recorder uses too).
 */
export interface LoadResult {
  commits: Map<string, number>;
  /** Commits whose statement returned, per second of the schedule. */
  achievedRate: number;
  targetRate: number;
  seconds: number;
  errors: number;
  /** How far behind its schedule the load issued a statement, at worst (too many in flight). */
  maxIssueDelayMs: number;
  /** Rows this load inserted. */
  inserted: string[];
}

export async function steadyLoad(
  sql: postgres.Sql,
  opts: { rate: number; seconds: number; tag: string; maxInFlight?: number; onTick?: (elapsedMs: number) => void },
): Promise<LoadResult> {
  const maxInFlight = opts.maxInFlight ?? 64;
  const commits = new Map<string, number>();
  const inserted: string[] = [];
  const total = Math.round(opts.rate * opts.seconds);
  let issued = 0;
  let inFlight = 0;
  let errors = 0;
  let maxIssueDelayMs = 0;
  let seq = 0;
  const pending = new Set<Promise<void>>();

  const one = async () => {
    const n = seq++;
    // Updates need rows to update: the first 20 changes are inserts.
    const update = inserted.length >= 20 && n % 2 === 1;
    try {
      const rows = update
        ? await sql`update prospects set score = score + 1 where id = ${inserted[Math.floor(Math.random() * inserted.length)]!} returning id, version`
        : await sql`insert into prospects (name, city, country, contact_name, contact_email, contact_title, website, stage, tier, score, lead_source)
                    values (${`${opts.tag} ${n}`}, 'Zürich', 'CH', 'Anna Muster', ${`gm.${n}@${opts.tag}.test`}, 'General Manager',
                            'https://bellevue.test', 'new', 'A', ${n % 100}, ${opts.tag}) returning id, version`;
      const at = Date.now();
      const row = rows[0] as { id: string; version: string | number } | undefined;
      if (row) {
        commits.set(`${row.id}:${Number(row.version)}`, at);
        if (!update) inserted.push(row.id);
      }
    } catch {
      errors++;
    }
  };

  const started = Date.now();
  while (issued < total) {
    const elapsed = Date.now() - started;
    opts.onTick?.(elapsed);
    const due = Math.min(total, Math.floor((elapsed / 1000) * opts.rate)) - issued;
    for (let i = 0; i < due; i++) {
      if (inFlight >= maxInFlight) break;
      maxIssueDelayMs = Math.max(maxIssueDelayMs, elapsed - (issued / opts.rate) * 1000);
      inFlight++;
      issued++;
      const p = one().finally(() => {
        inFlight--;
        pending.delete(p);
      });
      pending.add(p);
    }
    await sleep(2);
  }
  await Promise.all(pending);
  const seconds = (Date.now() - started) / 1000;
  return {
    commits,
    achievedRate: Math.round(commits.size / seconds),
    targetRate: opts.rate,
    seconds,
    errors,
    maxIssueDelayMs: Math.round(maxIssueDelayMs),
    inserted,
  };
}
