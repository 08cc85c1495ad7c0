import type { ReplicaTarget } from "../../core/apply-batch";
import { d1Replica } from "../../core/stores/d1-replica";
import { validateEvent, type ValidEvent } from "../../core/validate-event";
import type { Env } from "../../src/env";
import { d1ReplicaBefore } from "./d1-before";
import { prospectRows } from "./d1-variants";
import { poolIds, upsertEvent } from "./rows";

/**
 * The store call before and after RETURNING on batches of 100 by how many of them the upsert
 * writes: all (steady state), half, none (a redelivered batch). What the upsert did not write
 * costs the new apply a second round trip; this measures what that costs and when.
 * Per repetition and case, both applies get the same kind of batch on rows of their own, in
 * alternating order; the rows are written once, untimed, before the duplicates are timed.
 */
export async function d1ApplyCases(env: Env, req: { pool: number; reps: number }) {
  const targets: Record<string, ReplicaTarget> = { before: d1ReplicaBefore(env.DB), after: d1Replica(env.DB) };
  const ms: Record<string, number[]> = {};
  const events = (pool: number, version: number) =>
    prospectRows(poolIds(pool, 100), version).map((r) =>
      validateEvent(upsertEvent("prospects", r, "supabase-change-log"), "d1"),
    );
  let pool = req.pool;
  for (let k = 0; k < req.reps; k++) {
    const names = k % 2 ? ["after", "before"] : ["before", "after"];
    for (const name of names) {
      for (const [kase, written] of [
        ["all written", 100],
        ["half written", 50],
        ["none written", 0],
      ] as const) {
        const batch: ValidEvent[] = events(++pool, 2);
        // What D1 holds already: the first 100 − written rows at this version (duplicates then).
        if (written < 100) await targets.after!.apply(batch.slice(0, 100 - written));
        const started = performance.now();
        const held = await targets[name]!.apply(batch);
        (ms[`${kase} · ${name}`] ??= []).push(performance.now() - started);
        if ([...held.values()].some((h) => h.version !== 2 || h.conflict))
          throw new Error(`${name}: unexpected answer`);
      }
    }
  }
  return ms;
}
