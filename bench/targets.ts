import { formatFigure } from "./compare";
import type { BenchResults } from "./report";
import { median } from "./stats";
import type { Table } from "./tables";

/**
 * The targets a run is checked against, each with the figure that decides it. Issue 14's
 * (consumers, backlog, capture) and the earlier ones still tracked. A target whose phase did not
 * run is not listed: nothing was measured to decide it.
 */
export interface TargetCheck {
  target: string;
  source: string;
  measured: string;
  met: boolean;
}

const ms = (v: number | null | undefined) => formatFigure(v ?? null, "ms");
const n = (v: number) => v.toLocaleString("en-US");

export function targets(r: BenchResults): TargetCheck[] {
  const list: TargetCheck[] = [];
  const q = r.throughput?.ratios;
  const d1 = q?.d1?.["100"];
  if (d1) {
    list.push({
      target: "D1 consumer at batch 100 ≥ 30× the per-row loop",
      source: "issue 14",
      measured: `${d1.consumerOverPerRow}× pooled, ${d1.pairedConsumerOverPerRow}× paired`,
      met: d1.consumerOverPerRow >= 30 && d1.pairedConsumerOverPerRow >= 30,
    });
    list.push({
      target: "D1 consumer at batch 100 ≥ 0.6 × the raw limit",
      source: "issue 14",
      measured: `${d1.consumerOverRaw} pooled, ${d1.pairedConsumerOverRaw} paired (raw limit: ${d1.rawLimitVariant})`,
      met: d1.consumerOverRaw >= 0.6 && d1.pairedConsumerOverRaw >= 0.6,
    });
  }
  const pg = q?.supabase?.["100"];
  if (pg) {
    list.push({
      target: "Postgres consumer at batch 100 ≥ 0.5 × raw on a warm connection",
      source: "issue 14",
      measured: `${pg.consumerOverRaw} pooled, ${pg.pairedConsumerOverRaw} paired (raw limit: ${pg.rawLimitVariant})`,
      met: pg.consumerOverRaw >= 0.5 && pg.pairedConsumerOverRaw >= 0.5,
    });
    list.push({
      target: "Postgres consumer at batch 100 ≥ 30× the per-row loop",
      source: "earlier",
      measured: `${pg.consumerOverPerRow}× pooled, ${pg.pairedConsumerOverPerRow}× paired`,
      met: pg.consumerOverPerRow >= 30 && pg.pairedConsumerOverPerRow >= 30,
    });
  }
  const newConnection = supplementaryPostgres(r);
  if (newConnection) list.push(newConnection);

  const backlog = r.backlog ?? [];
  if (backlog.length >= 2) {
    // "Flat": every size's events/s within ±20 % of the median size's.
    const mid = median(backlog.map((b) => b.eventsPerSecond));
    const worst = Math.max(...backlog.map((b) => Math.abs(b.eventsPerSecond / mid - 1)));
    list.push({
      target: `backlog ${backlog.map((b) => n(b.events)).join(" / ")}: events/s within ±20 % of their median`,
      source: "issue 14",
      measured: `${backlog.map((b) => n(b.eventsPerSecond)).join(" / ")} events/s (furthest ${Math.round(worst * 100)} % from ${n(mid)})`,
      met: worst <= 0.2,
    });
  }

  for (const b of r.capture?.bulk.filter((x) => x.mode === "statement" && x.rows >= 1000) ?? []) {
    list.push({
      target: `statement capture, bulk UPDATE of ${n(b.rows)} rows: requests ≤ 1 % of rows`,
      source: "issue 14",
      measured: `${n(b.requests)} requests (${b.requestsPer1000Rows} per 1,000 rows)`,
      met: b.requests <= b.rows / 100,
    });
    if (b.rows === 10_000)
      list.push({
        target: "statement capture: a 10,000-row UPDATE visible in D1 within 5 s of commit",
        source: "issue 14",
        measured: `last row after ${ms(b.lagMs.max)} (p50 ${ms(b.lagMs.p50)}, p99 ${ms(b.lagMs.p99)}), ${b.notVisible} not visible`,
        met: b.notVisible === 0 && b.lagMs.max !== null && b.lagMs.max <= 5000,
      });
  }

  const at1000 = r.webhookLag?.find((l) => l.targetRate === 1000 && l.path === "webhook");
  if (at1000) {
    list.push({
      target: "webhook path at 1,000 changes/s: lag p99 < 2 s",
      source: "earlier",
      measured: `p99 ${ms(at1000.lagMs.p99)} at ${at1000.achievedRate} changes/s achieved, ${at1000.notVisible} not visible`,
      met:
        at1000.lagMs.p99 !== null && at1000.lagMs.p99 < 2000 && at1000.notVisible === 0 && at1000.achievedRate >= 950,
    });
  }
  return list;
}

/** Supplementary: the Postgres consumer against the faster bare form on a new connection, as a Worker must open. */
function supplementaryPostgres(r: BenchResults): TargetCheck | undefined {
  const v = r.throughput?.variants.supabase?.["100"];
  const rawNew = v
    ? (["raw-bulk", "raw-bulk-inline"] as const)
        .map((k) => [k, v[k]] as const)
        .filter((x): x is readonly [(typeof x)[0], NonNullable<(typeof x)[1]>] => Boolean(x[1]))
        .sort((a, b) => b[1].rowsPerSecond - a[1].rowsPerSecond)[0]
    : undefined;
  if (!v?.consumer || !rawNew) return undefined;
  const [rawName, raw] = rawNew;
  const pooled = Math.round((v.consumer.rowsPerSecond / raw.rowsPerSecond) * 100) / 100;
  const paired = Math.round(median(v.consumer.rounds.map((x, i) => x / raw.rounds[i]!)) * 100) / 100;
  return {
    target: "(supplementary) Postgres consumer at batch 100 ≥ 0.5 × raw on a new connection per batch",
    source: "earlier",
    measured: `${pooled} pooled, ${paired} paired (${rawName})`,
    met: pooled >= 0.5 && paired >= 0.5,
  };
}

export function targetsTable(r: BenchResults): Table {
  return {
    header: ["target", "from", "measured", "met"],
    align: ["l", "l", "l", "l"],
    rows: targets(r).map((t) => [t.target, t.source, t.measured, t.met ? "met" : "MISSED"]),
  };
}
