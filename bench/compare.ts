import { ANCHORS, footnote, SOURCES } from "./anchors";
import { headlineFigures, phasesOf, type Figure, type Phase } from "./figures";
import type { BenchResults } from "./report";
import type { Table } from "./tables";

/**
 * This run's headline figures next to the previous run's, phase by phase: every phase this run
 * measured, with the change as a ratio (this ÷ previous) and the published limit that applies.
 * Phases only the previous run measured are named, not repeated: their figures are in the
 * previous results file.
 */
export interface ComparisonRow extends Figure {
  /** undefined: the previous run has no such figure (no previous run, or not measured there). */
  previous?: number | null;
  /** This ÷ previous, when both are finite and the previous is not zero. */
  ratio?: number;
}

export interface Comparison {
  rows: ComparisonRow[];
  /** Phases the previous run measured and this one did not. */
  notRun: Phase[];
  previous?: { startedAt: string; commit: string; command: string; cpu: string; load: number[] };
}

export function compareRuns(current: BenchResults, previous?: BenchResults): Comparison {
  const before = new Map((previous ? headlineFigures(previous) : []).map((f) => [`${f.phase}|${f.name}`, f] as const));
  const now = headlineFigures(current);
  const rows = now.map((f): ComparisonRow => {
    const p = before.get(`${f.phase}|${f.name}`);
    if (!p) return f;
    const ratio =
      f.value !== null && p.value !== null && p.value !== 0 ? Math.round((f.value / p.value) * 100) / 100 : undefined;
    return { ...f, previous: p.value, ratio };
  });
  const ran = new Set(phasesOf(now));
  return {
    rows,
    notRun: previous ? phasesOf(headlineFigures(previous)).filter((p) => !ran.has(p)) : [],
    previous: previous && {
      startedAt: previous.startedAt,
      commit: previous.machine.git.commit,
      command: previous.command,
      cpu: previous.machine.cpu,
      load: previous.machine.loadAverageAtStart,
    },
  };
}

/** A figure as the report prints it: ms as ms or s, "never" for a change never seen. */
export function formatFigure(value: number | null | undefined, unit: string): string {
  if (value === undefined) return "–";
  if (value === null) return "never";
  if (unit === "ms") {
    if (value >= 10_000) return `${(value / 1000).toFixed(1)} s`;
    // CPU per change is a fraction of a millisecond: keep three significant digits below 10 ms.
    return value < 10 ? `${Number(value.toPrecision(3))} ms` : `${Math.round(value)} ms`;
  }
  if (unit === "×") return `${value}×`;
  return `${value.toLocaleString("en-US")} ${unit}`;
}

export function comparisonTable(c: Comparison): Table {
  return {
    header: ["phase", "figure", "previous", "this run", "this ÷ previous", "better", "published limit"],
    align: ["l", "l", "r", "r", "r", "l", "l"],
    rows: c.rows.map((row) => [
      row.phase,
      row.name,
      c.previous && row.previous === undefined ? "not measured" : formatFigure(row.previous, row.unit),
      formatFigure(row.value, row.unit),
      row.ratio === undefined ? "–" : `${row.ratio}×`,
      row.better,
      row.anchor ? `${ANCHORS[row.anchor].figure} [${footnote(ANCHORS[row.anchor].source)}]` : "",
    ]),
  };
}

/** The lines around the table: what "previous" is, and what was not run. */
export function comparisonNotes(c: Comparison): string[] {
  const notes = [
    c.previous
      ? `Previous run: ${c.previous.startedAt} at ${c.previous.commit} (\`${c.previous.command}\`), on ${c.previous.cpu}, ` +
        `load average ${c.previous.load.join(" / ")} at start. A ratio compares two runs, machines and loads: the figures within one run are what compare like with like.`
      : "No previous run to compare with (no results file at the output path).",
  ];
  if (c.notRun.length)
    notes.push(
      `Measured by the previous run only, not in this one: ${c.notRun.join(", ")} (figures in its results file).`,
    );
  return notes;
}

/** The published limits, numbered as the table's footnotes. */
export function anchorFootnotes(): string[] {
  return Object.entries(SOURCES).map(([name, page]) => {
    const figures = Object.values(ANCHORS)
      .filter((a) => a.source === name)
      .map((a) => a.figure);
    return `[${footnote(name as keyof typeof SOURCES)}] ${page}: ${figures.join("; ")}.`;
  });
}
