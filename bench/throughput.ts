import type { BenchStack } from "./stack";
import { median, round } from "./stats";

/**
 * Apply throughput, side by side: every round runs every variant of a store at a batch size in
 * one request to the bench worker, in an order rotated each round, so that a burst of load on the
 * shared machine hits all variants alike. Round 0 inserts the rows and warms up; it is discarded.
 */
export const STORES = {
  d1: {
    main: ["consumer", "per-row", "raw-json", "raw-jsonb", "raw-values"],
    breakdown: [
      "consumer-nolog",
      "replica-apply",
      "replica-upsert",
      "write-txn",
      "validate",
      "proposal-one-txn",
      // The D1 apply before RETURNING (bench/worker/d1-before.ts) against after, same harness.
      "consumer-before",
      "consumer-after",
      "replica-apply-before",
      "replica-upsert-returning",
    ],
  },
  supabase: {
    main: ["consumer", "per-row", "raw-bulk", "raw-bulk-inline", "raw-bulk-warm"],
    breakdown: [
      "consumer-nolog",
      "replica-apply",
      "replica-apply-warm",
      "connect",
      "validate",
      "consumer-warm",
      "jsonb-echo-warm",
      "apply-short-answer",
      "apply-short-answer-warm",
    ],
  },
} as const;
export type StoreName = keyof typeof STORES;

export interface ThroughputOptions {
  rounds: number;
  batchSizes: number[];
  /** Rows per round for the per-row loops (slow) and for every other variant. */
  perRowRows: number;
  fastRows: (store: StoreName, batch: number) => number;
  /** Postgres prospect that owns the email rows. */
  owner: string;
  log: (line: string) => void;
}

export interface VariantResult {
  rows: number;
  batches: number;
  seconds: number;
  rowsPerSecond: number;
  /** Spread of the per-round rates (rows/s). */
  perRound: { min: number; median: number; max: number };
  /** Per-round rates in round order (for paired ratios). */
  rounds: number[];
  msPerBatch: number;
}

export type ThroughputResult = Record<StoreName, Record<string, Record<string, VariantResult>>>;

export async function runThroughput(stack: BenchStack, opts: ThroughputOptions): Promise<ThroughputResult> {
  const acc = new Map<string, { rows: number; ms: number; batches: number; rates: number[] }>();
  for (let round = 0; round <= opts.rounds; round++) {
    const started = Date.now();
    for (const store of Object.keys(STORES) as StoreName[]) {
      for (const batch of opts.batchSizes) {
        const names = [...STORES[store].main, ...STORES[store].breakdown];
        const order = names.map((_, i) => names[(i + round) % names.length]!);
        const per = (n: number) => Math.max(batch, Math.ceil(n / batch) * batch);
        const rows = Object.fromEntries(
          names.map((n) => [n, per(n === "per-row" ? opts.perRowRows : opts.fastRows(store, batch))]),
        );
        const out = await stack.bench<Record<string, { rows: number; batches: number; ms: number }>>("throughput", {
          store,
          batch,
          version: round + 1,
          order,
          rows,
          owner: opts.owner,
        });
        if (round === 0) continue;
        for (const [name, r] of Object.entries(out)) {
          const key = `${store}|${batch}|${name}`;
          const a = acc.get(key) ?? { rows: 0, ms: 0, batches: 0, rates: [] };
          a.rows += r.rows;
          a.ms += r.ms;
          a.batches += r.batches;
          a.rates.push((r.rows / r.ms) * 1000);
          acc.set(key, a);
        }
      }
    }
    opts.log(
      `throughput: ${round === 0 ? "warm-up" : `round ${round}/${opts.rounds}`} done in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  }

  const result = { d1: {}, supabase: {} } as ThroughputResult;
  for (const [key, a] of acc) {
    const [store, batch, name] = key.split("|") as [StoreName, string, string];
    const byBatch = (result[store][batch] ??= {});
    byBatch[name] = {
      rows: a.rows,
      batches: a.batches,
      seconds: round(a.ms / 1000, 3),
      rowsPerSecond: Math.round((a.rows / a.ms) * 1000),
      perRound: {
        min: Math.round(Math.min(...a.rates)),
        median: Math.round(median(a.rates)),
        max: Math.round(Math.max(...a.rates)),
      },
      rounds: a.rates.map((r) => Math.round(r)),
      msPerBatch: round(a.ms / a.batches, 2),
    };
  }
  return result;
}

export interface Ratios {
  consumerRowsPerSecond: number;
  perRowRowsPerSecond: number;
  rawLimitRowsPerSecond: number;
  /** The faster raw form overall; the ratio against the raw limit uses it. */
  rawLimitVariant: string;
  /** Pooled: total rows / total time of each variant. */
  consumerOverPerRow: number;
  consumerOverRaw: number;
  /** Paired: the ratio within each round (same minute, same machine load), median over rounds. */
  pairedConsumerOverPerRow: number;
  pairedConsumerOverRaw: number;
}

/** Consumer against the per-row loop and against the best raw form, per store and batch size. */
export function ratios(result: ThroughputResult): Record<StoreName, Record<string, Ratios>> {
  const out = { d1: {}, supabase: {} } as Record<StoreName, Record<string, Ratios>>;
  const paired = (a: VariantResult, b: VariantResult) => round(median(a.rounds.map((r, i) => r / b.rounds[i]!)), 2);
  for (const store of Object.keys(result) as StoreName[]) {
    for (const [batch, v] of Object.entries(result[store])) {
      const raws = Object.entries(v).filter(([n]) => n.startsWith("raw-"));
      const [rawName, raw] = raws.sort((a, b) => b[1].rowsPerSecond - a[1].rowsPerSecond)[0]!;
      const consumer = v.consumer!;
      const perRow = v["per-row"]!;
      out[store][batch] = {
        consumerRowsPerSecond: consumer.rowsPerSecond,
        perRowRowsPerSecond: perRow.rowsPerSecond,
        rawLimitRowsPerSecond: raw.rowsPerSecond,
        rawLimitVariant: rawName,
        consumerOverPerRow: round(consumer.rowsPerSecond / perRow.rowsPerSecond, 1),
        consumerOverRaw: round(consumer.rowsPerSecond / raw.rowsPerSecond, 2),
        pairedConsumerOverPerRow: paired(consumer, perRow),
        pairedConsumerOverRaw: paired(consumer, raw),
      };
    }
  }
  return out;
}
