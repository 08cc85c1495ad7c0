import type { AnchorName } from "./anchors";
import type { BenchResults } from "./report";

/**
 * The headline figures of a run, one flat list per phase, named the same way in every run so two
 * runs can be set side by side (bench/compare.ts). A phase that did not run has no figures.
 */
export const PHASES = ["throughput", "lag", "sweep", "backlog", "replay", "capture", "hubspot"] as const;
export type Phase = (typeof PHASES)[number];

export interface Figure {
  phase: Phase;
  name: string;
  /** null: never happened (a lag whose change was never seen; JSON turns Infinity into null). */
  value: number | null;
  unit: string;
  better: "higher" | "lower";
  anchor?: AnchorName;
}

type Add = (
  name: string,
  value: number | null | undefined,
  unit: string,
  better: Figure["better"],
  anchor?: AnchorName,
) => void;

export function headlineFigures(r: BenchResults): Figure[] {
  const out: Figure[] = [];
  const phase =
    (p: Phase): Add =>
    (name, value, unit, better, anchor) => {
      if (value === undefined) return;
      out.push({
        phase: p,
        name,
        value: value === null || !Number.isFinite(value) ? null : value,
        unit,
        better,
        anchor,
      });
    };

  const tp = phase("throughput");
  for (const [store, byBatch] of Object.entries(r.throughput?.ratios ?? {})) {
    for (const [batch, q] of Object.entries(byBatch)) {
      const at = `${store} batch ${batch}`;
      tp(`${at}: consumer`, q.consumerRowsPerSecond, "rows/s", "higher", batch === "100" ? "consumerBatch" : undefined);
      tp(`${at}: per-row loop`, q.perRowRowsPerSecond, "rows/s", "higher");
      tp(`${at}: raw limit`, q.rawLimitRowsPerSecond, "rows/s", "higher");
      tp(`${at}: consumer ÷ per-row (pooled)`, q.consumerOverPerRow, "×", "higher");
      tp(`${at}: consumer ÷ raw (pooled)`, q.consumerOverRaw, "×", "higher");
    }
  }

  const lag = phase("lag");
  for (const l of r.webhookLag ?? []) {
    const at = `${l.path} ${k(l.targetRate)}/s`;
    lag(`${at}: achieved`, l.achievedRate, "changes/s", "higher", l.path === "queue" ? "queueThroughput" : undefined);
    if (l.webhookArrivalRate !== undefined) lag(`${at}: webhooks in`, l.webhookArrivalRate, "webhooks/s", "higher");
    lag(`${at}: lag p50`, l.lagMs.p50, "ms", "lower");
    lag(`${at}: lag p99`, l.lagMs.p99, "ms", "lower");
    lag(`${at}: not visible`, l.notVisible, "changes", "lower");
  }

  const sweep = phase("sweep");
  if (r.sweepLag) {
    sweep("sweep path: lag p50", r.sweepLag.lagMs.p50, "ms", "lower");
    sweep("sweep path: lag p99", r.sweepLag.lagMs.p99, "ms", "lower");
    sweep("sweep path: not visible", r.sweepLag.notVisible, "changes", "lower");
  }

  const backlog = phase("backlog");
  for (const b of r.backlog ?? []) {
    backlog(`${k(b.events)} events: events/s`, b.eventsPerSecond, "events/s", "higher", "queueThroughput");
    backlog(`${k(b.events)} events: ms per event`, b.msPerEvent, "ms", "lower");
  }

  const replay = phase("replay");
  if (r.replay) {
    replay(`${k(r.replay.tasks)} tasks: tasks/s`, r.replay.tasksPerSecond, "tasks/s", "higher");
    replay(`${k(r.replay.tasks)} tasks: all resolved`, ms(r.replay.resolvedSeconds), "ms", "lower");
    replay(`${k(r.replay.tasks)} tasks: sent twice`, r.replay.sentTwice, "tasks", "lower");
  }

  const capture = phase("capture");
  for (const b of r.capture?.bulk ?? []) {
    const at = `bulk ${k(b.rows)} rows, ${b.mode}`;
    capture(`${at}: requests per 1,000 rows`, b.requestsPer1000Rows, "requests", "lower", "webhookPerRow");
    capture(`${at}: lag p50`, b.lagMs.p50, "ms", "lower");
    capture(`${at}: lag p99`, b.lagMs.p99, "ms", "lower");
    capture(`${at}: last row`, b.lagMs.max, "ms", "lower");
    capture(`${at}: workerd CPU per change`, b.workerdCpuMsPerChange, "ms", "lower");
  }
  for (const x of r.capture?.single ?? []) {
    const at = `single-row ${k(x.targetRate)}/s, ${x.mode}`;
    capture(`${at}: achieved`, x.achievedRate, "changes/s", "higher");
    if (x.requestsInPerSecond !== undefined)
      capture(`${at}: requests in`, x.requestsInPerSecond, "requests/s", "higher");
    capture(`${at}: requests per 1,000 changes`, x.requestsPer1000Rows, "requests", "lower", "webhookPerRow");
    capture(`${at}: lag p50`, x.lagMs.p50, "ms", "lower");
    capture(`${at}: lag p99`, x.lagMs.p99, "ms", "lower");
    capture(`${at}: workerd CPU per change`, x.workerdCpuMsPerChange, "ms", "lower");
    capture(`${at}: not visible`, x.notVisible, "changes", "lower");
  }

  const hubspot = phase("hubspot");
  const h = r.hubspot;
  if (h) {
    const at = `${k(h.contacts)} contacts`;
    hubspot(`${at}: contacts/s`, h.contactsPerSecond, "contacts/s", "higher");
    hubspot(`${at}: fraction of the budget's ceiling`, h.fractionOfCeiling, "×", "higher");
    hubspot(`${at}: HubSpot requests`, h.requests, "requests", "lower");
    hubspot(`${at}: peak requests in 10 s`, h.peakIn10s, "requests", "lower", "hubspotGeneral");
    hubspot(`${at}: 429s`, h.throttled429, "answers", "lower");
    hubspot(`${at}: session read`, ms(h.readSeconds), "ms", "lower");
    hubspot(`${at}: all in Supabase`, ms(h.allAppliedSeconds), "ms", "lower");
  }
  return out;
}

/** Sizes and rates in figure names as the tables print them: 10,000. */
const k = (v: number) => v.toLocaleString("en-US");

/** Seconds (null or Infinity: never) as ms. */
const ms = (seconds: number | null) => (seconds === null || !Number.isFinite(seconds) ? null : seconds * 1000);

/** The phases a run has figures for, in the bench's order. */
export function phasesOf(figures: Figure[]): Phase[] {
  return PHASES.filter((p) => figures.some((f) => f.phase === p));
}
