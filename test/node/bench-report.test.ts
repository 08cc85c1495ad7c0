import { describe, expect, it } from "vitest";
import { compareRuns, comparisonNotes, comparisonTable, formatFigure } from "../../bench/compare";
import { renderMarkdown, spliceResults, type BenchResults, BEGIN, END } from "../../bench/report";
import { textTable } from "../../bench/tables";
import { targets } from "../../bench/targets";

// The bench's report (issue 14 part 3) as pure functions over saved results: this run against
// the previous one, the published limits, the targets. Fixtures are results files cut down to the
// fields the report reads.

const dist = (p50: number, p99: number, max = p99) => ({ n: 100, mean: p50, p50, p95: p99, p99, max });

function run(at: string, phases: Partial<BenchResults>): BenchResults {
  return {
    startedAt: at,
    durationSeconds: 300,
    command: "npm run bench",
    options: { rounds: 10 },
    machine: {
      cpu: "Test CPU × 2",
      memoryGiB: 24,
      os: "Linux",
      loadAverageAtStart: [1, 1, 1],
      loadAverageAtEnd: [2, 2, 2],
      versions: { node: "v20", wrangler: "4", miniflare: "4", workerd: "1", postgresJs: "3", zod: "4" },
      git: { commit: at.slice(0, 7), uncommitted: [] },
    },
    memory: {
      workerdPid: 1,
      wranglerPid: 2,
      cpuByPhase: {},
      peakByPhase: {},
      workerdPeakMiB: 100,
      workerdHwmMiB: 100,
      workerdAnonMiBAtEnd: null,
      workerdFileMiBAtEnd: null,
      wranglerPeakMiB: 200,
      intervalMs: 200,
    },
    ...phases,
  } as BenchResults;
}

const lag = (p99: number | null, achievedRate = 1000) =>
  ({
    path: "webhook",
    targetRate: 1000,
    achievedRate,
    seconds: 10,
    changes: 10_000,
    visible: 10_000,
    notVisible: 0,
    writeErrors: 0,
    maxIssueDelayMs: 5,
    lagMs: { ...dist(500, 0), p99 },
    webhookArrivalRate: 358,
    deliveriesBySource: {},
    consumer: { batches: 100, meanBatchSize: 100, msPerBatch: dist(20, 30) },
  }) as unknown as NonNullable<BenchResults["webhookLag"]>[number];

const backlog = (eventsPerSecond: number[]) =>
  eventsPerSecond.map((eps, i) => ({
    events: 1000 * 10 ** i,
    eventsPerSecond: eps,
    msPerEvent: Math.round((1000 / eps) * 1000) / 1000,
  })) as unknown as BenchResults["backlog"];

type Bulk = NonNullable<BenchResults["capture"]>["bulk"][number];
const bulk = (rows: number, mode: "row" | "statement", requests: number, maxMs: number | null): Bulk =>
  ({
    mode,
    rows,
    statementMs: 100,
    requests,
    failedRequests: 0,
    requestsPer1000Rows: (requests / rows) * 1000,
    workerdCpuSeconds: 1,
    workerdCpuMsPerChange: 0.05,
    wranglerCpuSeconds: 1,
    visible: rows,
    notVisible: 0,
    lagMs: { ...dist(1000, 2000), max: maxMs },
    lastRequestAnsweredMs: 300,
    requestMs: dist(100, 120),
  }) as unknown as Bulk;

const hubspot = {
  contacts: 20_000,
  publishedLimitPer10s: 100,
  budgetPer10s: 90,
  pagesPerStep: 50,
  ceilingContactsPerSecond: 900,
  bucket: { burst: 9, refillPerSecond: 8.1, sustainedContactsPerSecond: 810, allowedInReadTime: 211 },
  sessionStatus: "completed",
  readSeconds: 25,
  allAppliedSeconds: 26,
  contactsPerSecond: 769.2,
  fractionOfCeiling: 0.85,
  contactsInSupabase: 20_000,
  distinctInSupabase: 20_000,
  requests: 201,
  listRequests: 201,
  requestsPerSecondReading: 8.04,
  byRoute: { "GET /crm/v3/objects/contacts": 201 },
  throttled429: 0,
  peakIn10s: 90,
  steps: {
    count: 5,
    ms: dist(6000, 6200),
    gapMs: dist(40, 80),
    gapSecondsTotal: 0.2,
    firstStepAfterMs: 900,
    msPerPage: 120,
  },
  supabaseApply: {
    batches: 200,
    meanBatchSize: 100,
    msPerBatch: dist(30, 60),
    busySeconds: 6,
    tailSeconds: 0.8,
    contactsPerBusySecond: 3333,
  },
} as BenchResults["hubspot"];

/** The comparison table's row for one figure, as its cells in column order. */
function cells(current: BenchResults, previous: BenchResults | undefined, figure: string): string[] {
  const table = comparisonTable(compareRuns(current, previous));
  const found = table.rows.find((r) => r[1] === figure);
  if (!found) throw new Error(`no row "${figure}" in:\n${table.rows.map((r) => r[1]).join("\n")}`);
  return found;
}

/** The same row keyed by column header. */
function row(current: BenchResults, previous: BenchResults | undefined, figure: string) {
  const header = comparisonTable(compareRuns(current, previous)).header;
  const found = cells(current, previous, figure);
  return Object.fromEntries(header.map((h, i) => [h, found[i]]));
}

describe("bench report: this run against the previous run", () => {
  const previous = run("2026-11-22T05:09:45Z", {
    webhookLag: [lag(18_000, 999)],
    backlog: backlog([2132, 3056, 3178]),
  });
  const current = run("2026-12-02T14:40:00Z", { webhookLag: [lag(9_000)], hubspot });

  it("puts each figure next to the previous run's with the change as a ratio", () => {
    const p99 = "webhook 1,000/s: lag p99";
    expect(cells(current, previous, p99)).toEqual(["lag", p99, "18.0 s", "9000 ms", "0.5×", "lower", ""]);
    expect(row(current, previous, "webhook 1,000/s: achieved")["this ÷ previous"]).toBe("1×");
  });

  it("without a previous run, says so and leaves the previous column and the ratio empty", () => {
    const c = compareRuns(current);
    expect(comparisonNotes(c)[0]).toMatch(/No previous run/);
    expect(row(current, undefined, "webhook 1,000/s: lag p99")).toMatchObject({
      previous: "–",
      "this ÷ previous": "–",
    });
  });

  it("a phase only this run measured has no previous figure; one only the previous run measured is named", () => {
    const rate = "20,000 contacts: contacts/s";
    expect(cells(current, previous, rate)).toEqual([
      "hubspot",
      rate,
      "not measured",
      "769.2 contacts/s",
      "–",
      "higher",
      "",
    ]);
    const c = compareRuns(current, previous);
    expect(c.notRun).toEqual(["backlog"]);
    expect(c.rows.some((r) => r.phase === "backlog")).toBe(false);
    expect(comparisonNotes(c).join(" ")).toMatch(/previous run only, not in this one: backlog/);
  });

  it("a fraction of a millisecond keeps its digits", () => {
    expect(formatFigure(0.046, "ms")).toBe("0.046 ms");
    expect(formatFigure(1.3834, "ms")).toBe("1.38 ms");
    expect(formatFigure(4801, "ms")).toBe("4801 ms");
    expect(formatFigure(74742, "ms")).toBe("74.7 s");
  });

  it("a change never seen prints as never, and has no ratio", () => {
    const never = run("2026-12-02T15:00:00Z", { webhookLag: [lag(null)] });
    expect(row(never, previous, "webhook 1,000/s: lag p99")).toMatchObject({
      "this run": "never",
      "this ÷ previous": "–",
    });
  });

  it("names the published limit that applies, with its page as a footnote", () => {
    expect(row(current, previous, "20,000 contacts: peak requests in 10 s")["published limit"]).toMatch(
      /^100 requests \/ 10 s \(Free\/Starter\) to 190 \/ 10 s \(Professional\/Enterprise\) \[3\]$/,
    );
    const md = renderMarkdown(current, previous);
    expect(md).toContain("[1] Cloudflare Queues limits, developers.cloudflare.com/queues/platform/limits/");
    expect(md).toContain("[2] Cloudflare D1 limits, developers.cloudflare.com/d1/platform/limits/");
    expect(md).toMatch(
      /\| hubspot \| 20,000 contacts: contacts\/s \| not measured \| 769\.2 contacts\/s \| – \| higher \|/,
    );
  });
});

describe("bench report: targets", () => {
  const verdict = (r: BenchResults, target: RegExp) => {
    const t = targets(r).find((x) => target.test(x.target));
    if (!t) throw new Error(`no target ${target} in ${targets(r).map((x) => x.target)}`);
    return t;
  };

  it("statement capture: met within 5 s, missed beyond it, with the figure", () => {
    const fast = run("a", { capture: { bulk: [bulk(10_000, "statement", 20, 4_200)], single: [] } });
    const slow = run("b", { capture: { bulk: [bulk(10_000, "statement", 20, 7_840)], single: [] } });
    expect(verdict(fast, /within 5 s/)).toMatchObject({ met: true, measured: expect.stringContaining("4200 ms") });
    expect(verdict(slow, /within 5 s/)).toMatchObject({ met: false, measured: expect.stringContaining("7840 ms") });
    expect(verdict(slow, /requests ≤ 1 % of rows/)).toMatchObject({
      met: true,
      measured: "20 requests (2 per 1,000 rows)",
    });
  });

  it("a row never visible misses the 5 s target", () => {
    const lost = run("c", { capture: { bulk: [bulk(10_000, "statement", 20, null)], single: [] } });
    expect(verdict(lost, /within 5 s/).met).toBe(false);
  });

  it("backlog: every size within ±20 % of the median, or missed with how far", () => {
    expect(verdict(run("d", { backlog: backlog([2132, 3056, 3178]) }), /backlog/)).toMatchObject({
      met: false,
      measured: "2,132 / 3,056 / 3,178 events/s (furthest 30 % from 3,056)",
    });
    expect(verdict(run("e", { backlog: backlog([2900, 3000, 3100]) }), /backlog/).met).toBe(true);
  });

  it("a target whose phase did not run is not listed, and the rendered block shows MISSED for a missed one", () => {
    const r = run("f", { webhookLag: [lag(18_000, 999)] });
    expect(targets(r).map((t) => t.target)).toEqual(["webhook path at 1,000 changes/s: lag p99 < 2 s"]);
    expect(renderMarkdown(r)).toMatch(
      /\| webhook path at 1,000 changes\/s: lag p99 < 2 s \| earlier \| p99 18\.0 s .* \| MISSED \|/,
    );
  });
});

describe("bench report: rendering", () => {
  it("the terminal table aligns its columns", () => {
    const lines = textTable({ header: ["a", "figure"], align: ["l", "r"], rows: [["long cell", "1"]] });
    expect(lines).toEqual(["a          figure", "---------  ------", "long cell       1"]);
  });

  it("replaces only the generated block of RESULTS.md", () => {
    const doc = `# Results\n\n${BEGIN}\nold\n${END}\n\n## Notes\n`;
    expect(spliceResults(doc, "new")).toBe(`# Results\n\n${BEGIN}\nnew\n${END}\n\n## Notes\n`);
  });
});
