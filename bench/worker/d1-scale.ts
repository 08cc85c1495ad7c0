import { d1ApplySql } from "../../core/stores/d1-apply-sql";
import { d1Replica } from "../../core/stores/d1-replica";
import { validateEvent } from "../../core/validate-event";
import { prospects } from "../../schemas/entities/prospects";
import type { Env } from "../../src/env";
import { D1_VARIANTS, PROBE_TABLE_SQL, prospectRows } from "./d1-variants";
import { poolIds, upsertEvent } from "./rows";

/**
 * bench/profile-backlog.ts asks this at each replica size: what the to-d1 consumer's D1 work and
 * the sweep's D1 read cost with the replica as big as it is now, each repetition interleaved with
 * one trivial write transaction, whose cost does not depend on the replica's size, so a slower
 * machine moves the reference too while a deeper index moves only the statements.
 * Writes new prospects (ids of `pool`), as the backlog does.
 */
export async function d1Scale(env: Env, req: { pool: number; reps: number }) {
  const ms = {
    consumer: [] as number[],
    apply: [] as number[],
    currentVersions: [] as number[],
    probe: [] as number[],
  };
  await env.DB.prepare(PROBE_TABLE_SQL).run();
  const existing = await env.DB.prepare("SELECT id FROM prospects ORDER BY random() LIMIT 500").all<{ id: string }>();
  const ids = JSON.stringify(existing.results.map((r) => r.id));
  const time = async (into: number[], fn: () => Promise<unknown>) => {
    const started = performance.now();
    await fn();
    into.push(performance.now() - started);
  };
  for (let k = 0; k < req.reps; k++) {
    const rows = prospectRows(poolIds(req.pool + 2 * k, 100), 1);
    const bodies = prospectRows(poolIds(req.pool + 2 * k + 1, 100), 1).map((r) =>
      upsertEvent("prospects", r, "supabase-change-log"),
    );
    const valid = rows.map((r) => validateEvent(upsertEvent("prospects", r, "supabase-change-log"), "d1"));
    await time(ms.consumer, () => D1_VARIANTS.consumer!.run(env, bodies));
    await time(ms.apply, () => d1Replica(env.DB).apply(valid));
    await time(ms.currentVersions, () => env.DB.prepare(d1ApplySql(prospects).currentVersions).bind(ids).all());
    await time(ms.probe, () => D1_VARIANTS["write-txn"]!.run(env, null));
  }
  const count = await env.DB.prepare("SELECT count(*) AS n FROM prospects").first<{ n: number }>();
  return { replicaRows: count?.n ?? 0, ms };
}
