/**
 * `npm run fuzz`: property-based fuzzing of the worker's HTTP surface on the real local stack.
 *
 * Generated webhook payloads, email API requests and operator requests (fast-check; valid rows from
 * the registry's zod schemas, then mutated: wrong types, missing and unknown fields, odd unicode,
 * odd timestamps, huge strings, deep nesting, numbers past 2^53, odd query strings, paths and
 * headers) go to `wrangler dev` with local D1 and Queues, a scratch Postgres and the pg_net relay.
 * Three targets, each 0: 5xx answers, events enqueued (or D1 rows written) for refused input, rows
 * in a store that break their entity's schema. Findings are shrunk by fast-check and printed.
 *
 *   npm run fuzz -- [--runs 10000] [--seed 1] [--concurrency 4] [--shrink-seconds 20] [--json out.json]
 *                  [--wrangler-log file] [--keep-unread-bodies]
 *
 * It lives in test/fuzz/ beside test/chaos/: Node-side tooling that drives the whole stack
 * (tsconfig.node.json), and test/node/fuzz-small.test.ts runs a short version inside `npm test`.
 */
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import fc from "fast-check";
import { caseArbitrary, TARGETS, type Case, type CaseContext, type Target } from "./cases";
import { FUZZ_SECRETS, startFuzzStack, type FuzzStack } from "./fuzz-stack";
import { isRefused, judge, type Finding, type Oracle } from "./oracles";
import { emptyPools, sendCase, type Pools } from "./send-case";
import { checkStores, drain, type StoreReport } from "./store-checks";
import { compact } from "./text";

export interface FuzzOptions {
  runs: number;
  seed: number;
  concurrency?: number;
  /** Time budget for shrinking each distinct finding (0: no shrinking). */
  shrinkSeconds?: number;
  /** Most distinct findings shrunk. */
  maxShrinks?: number;
  drainTimeoutMs?: number;
  /** Append everything wrangler dev prints to this file. */
  wranglerLogFile?: string;
  /** Do not read bodies the worker left unread (shows wrangler dev's proxy failing the next request). */
  keepUnreadBodies?: boolean;
  log: (line: string) => void;
}

export interface FindingSummary {
  oracle: Oracle;
  signature: string;
  count: number;
  /** Case indexes (the first ten): `--only` replays one (request id fz-<index>). */
  cases: number[];
  detail: string;
  example: string;
  shrunk?: string;
  shrunkDetail?: string;
}

export interface FuzzResult {
  seed: number;
  runs: number;
  byTarget: Record<Target, number>;
  statuses: Record<string, number>;
  /** Target 1: answers ≥ 500 (and requests with no answer). */
  fiveXx: number;
  fiveXxRetryable503: number;
  /** Requests wrangler dev's proxy lost before our worker saw them, sent again (not answers of ours). */
  devProxyRetries: number;
  /** Target 2: queue messages sent, and D1 rows written, by refused (4xx) requests; rows nothing accepted explains. */
  refusedRequests: number;
  refusedWithEffects: number;
  eventsEnqueuedForRefused: number;
  d1RowsWrittenForRefused: number;
  unattributedRows: number;
  /** Target 3: rows that break their entity's schema after the drain (and constraint problems). */
  schemaBreakingRows: number;
  schemaBreakingByStore: { d1: number; postgres: number };
  /**
   * Accepted requests whose row broke its schema when read back at once (emails: D1 through the
   * API; webhooks: the row as the consumer will store it). A later change can repair a row before
   * the drain, so this is counted apart from the rows found after the drain, and is a target too.
   */
  schemaBreakingAtOnce: number;
  constraintProblems: string[];
  rowsChecked: { d1: number; postgres: number };
  drained: boolean;
  findings: FindingSummary[];
  store: StoreReport;
  seconds: number;
  ok: boolean;
  report: string;
}

/** A seed per case: each case is reproducible on its own, and shrinkable from exactly its first run. */
export function caseSeed(seed: number, index: number): number {
  return createHash("sha256").update(`${seed}:${index}`).digest().readInt32LE(0);
}

function stableUuid(seed: number, label: string): string {
  const h = createHash("sha256").update(`${seed}:${label}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Rows written through Postgres (and so through the real webhook path and relay into D1). */
async function seedStores(
  stack: FuzzStack,
  seed: number,
  log: (line: string) => void,
): Promise<{ ctx: CaseContext; keys: string[] }> {
  const prospectIds = Array.from({ length: 8 }, (_, i) => stableUuid(seed, `prospect-${i}`));
  const mailboxId = stableUuid(seed, "mailbox");
  const campaignId = stableUuid(seed, "campaign");
  const inboxId = stableUuid(seed, "inbox");
  const names = [
    "Hotel Bellevue",
    "Gasthof Zürich",
    "Ryokan 旅館",
    "مطعم",
    "Café \u202eRTL",
    "Zoë",
    "👩‍🍳 Kitchen",
    "Ærø",
  ];
  for (const [i, id] of prospectIds.entries())
    await stack.sql`insert into prospects (id, name, contact_email) values (${id}, ${names[i]!}, ${`gm${i}@hotel.test`})`;
  await stack.sql`insert into mailboxes (id, email) values (${mailboxId}, 'sales@crm.test')`;
  await stack.sql`insert into campaigns (id, name, mailbox_id) values (${campaignId}, 'Spring', ${mailboxId})`;
  await stack.sql`insert into inbox_items (id, mailbox_id, prospect_id, from_email) values (${inboxId}, ${mailboxId}, ${prospectIds[0]!}, 'gm0@hotel.test')`;
  const keys = [
    ...prospectIds.map((id) => `prospects:${id}`),
    `mailboxes:${mailboxId}`,
    `campaigns:${campaignId}`,
    `inbox_items:${inboxId}`,
  ];
  const deadline = Date.now() + 90_000;
  for (;;) {
    const [row] = await stack.d1.query<{ n: number }>(
      "SELECT (SELECT count(*) FROM prospects) + (SELECT count(*) FROM mailboxes) + (SELECT count(*) FROM campaigns) + (SELECT count(*) FROM inbox_items) AS n",
    );
    if (row!.n >= keys.length) break;
    if (Date.now() > deadline) throw new Error(`seed rows did not reach D1 (${row!.n}/${keys.length})`);
    await new Promise((r) => setTimeout(r, 300));
  }
  log(`seeded ${keys.length} rows in Postgres; all in D1`);
  return { ctx: { prospectIds }, keys };
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzResult> {
  const { log, seed, runs } = opts;
  const concurrency = opts.concurrency ?? 4;
  const started = Date.now();
  const stack = await startFuzzStack(log, {
    wranglerLogFile: opts.wranglerLogFile,
    keepUnreadBodies: opts.keepUnreadBodies,
  });
  try {
    const { ctx, keys } = await seedStores(stack, seed, log);
    const arbitraries = Object.fromEntries(TARGETS.map((t) => [t, caseArbitrary(t, ctx)])) as Record<
      Target,
      fc.Arbitrary<Case>
    >;
    const pools: Pools = emptyPools();
    const rowKeys = new Set(keys);
    const readEmail = async (id: string) => {
      const r = await fetch(`${stack.workerUrl}/v1/emails/${id}`, {
        headers: { authorization: `Bearer ${FUZZ_SECRETS.API_TOKEN}` },
      });
      return ((await r.json()) as { data?: { email?: unknown } }).data?.email;
    };
    const run = async (c: Case, requestId: string, freshIds = false) =>
      sendCase(c, { baseUrl: stack.workerUrl, secrets: FUZZ_SECRETS, pools, requestId, freshIds });

    const byTarget: Record<Target, number> = { webhook: 0, email: 0, admin: 0 };
    const statuses: Record<string, number> = {};
    const findings: Finding[] = [];
    const cases: Case[] = [];
    let refused = 0;
    let refusedWithEffects = 0;
    let eventsForRefused = 0;
    let rowsForRefused = 0;
    let fiveXx = 0;
    let retryable503 = 0;
    let devProxyRetries = 0;
    let schemaAtOnce = 0;
    let done = 0;
    let lastProgress = Date.now();

    const one = async (i: number) => {
      const target = TARGETS[i % TARGETS.length]!;
      const [c] = fc.sample(arbitraries[target], { seed: caseSeed(seed, i), numRuns: 1 });
      cases[i] = c!;
      const o = await run(c!, `fz-${i}`);
      byTarget[target]++;
      devProxyRetries += o.devProxyRetries;
      const key = o.transportError ? "no answer" : String(o.status);
      statuses[key] = (statuses[key] ?? 0) + 1;
      if (o.transportError || o.status >= 500) {
        fiveXx++;
        if (o.status === 503 && o.retryable) retryable503++;
      }
      if (isRefused(o)) {
        refused++;
        if (o.queueSends > 0 || o.d1RowsWritten > 0 || o.d1Changes > 0) {
          refusedWithEffects++;
          eventsForRefused += o.queueSends;
          rowsForRefused += Math.max(o.d1RowsWritten, o.d1Changes);
        }
      }
      const verdict = await judge(c!, o, i, { pools, readEmail });
      for (const k of verdict.touched) rowKeys.add(k);
      findings.push(...verdict.findings);
      schemaAtOnce += verdict.findings.filter((f) => f.oracle === "schema").length;
      done++;
      if (Date.now() - lastProgress > 10_000 || done === runs) {
        lastProgress = Date.now();
        log(
          `[fuzz] ${done}/${runs} (webhook ${byTarget.webhook}, email ${byTarget.email}, admin ${byTarget.admin}) ` +
            `5xx=${fiveXx} refused_with_effects=${refusedWithEffects} schema_findings=${findings.filter((f) => f.oracle === "schema").length} ` +
            `${Math.round((Date.now() - started) / 1000)} s`,
        );
      }
    };
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.max(1, concurrency) }, async () => {
        while (next < runs) await one(next++);
      }),
    );

    log(`[fuzz] ${runs} requests sent; draining the queues`);
    const drained = await drain(stack, { timeoutMs: opts.drainTimeoutMs ?? 120_000, log });
    const store = await checkStores(stack, { rowKeys });
    // Emails that broke their schema when read back: still so after the drain, or changed since?
    const brokenAtOnce = [...new Set(findings.flatMap((f) => (f.emailId ? [f.emailId] : [])))];
    for (const id of brokenAtOnce.slice(0, 20)) {
      const [row] = await stack.d1.query<Record<string, unknown>>(
        "SELECT id, status, version, sent_at, failed_at, updated_at FROM emails WHERE id = ?1",
        [id],
      );
      log(
        `email ${id} (broke its schema when written) after the drain: ${row ? JSON.stringify(row) : "no longer in D1"}`,
      );
    }

    // Shrink the first case of each distinct finding: fast-check re-runs that case's own seed, so
    // its first run is exactly the case, then shrinks it while the same finding reproduces.
    const summaries = summarise(findings, cases);
    const shrinkBudget = (opts.shrinkSeconds ?? 20) * 1000;
    let shrinkIndex = 0;
    for (const s of summaries) {
      if (shrinkBudget <= 0 || shrinkIndex >= (opts.maxShrinks ?? 12)) break;
      const first = findings.find((f) => f.signature === s.signature)!;
      const target = TARGETS[first.caseIndex % TARGETS.length]!;
      shrinkIndex++;
      let lastDetail = "";
      const result = await fc.check(
        fc.asyncProperty(arbitraries[target], async (c) => {
          const o = await run(c, `fz-shrink-${shrinkIndex}`, true);
          const verdict = await judge(c, o, first.caseIndex, { pools, readEmail });
          const same = verdict.findings.find((f) => f.signature === s.signature);
          if (same) lastDetail = same.detail;
          return !same;
        }),
        {
          seed: caseSeed(seed, first.caseIndex),
          numRuns: 1,
          interruptAfterTimeLimit: shrinkBudget,
          markInterruptAsFailure: false,
        },
      );
      if (result.failed && result.counterexample) {
        s.shrunk = compact(result.counterexample[0]);
        s.shrunkDetail = lastDetail;
      } else {
        s.shrunk = "(did not reproduce on its own)";
      }
    }

    const schemaByStore = {
      d1: store.schemaBreaks.filter((b) => b.store === "d1").length,
      postgres: store.schemaBreaks.filter((b) => b.store === "postgres").length,
    };
    const constraintProblems = [
      ...store.d1Integrity.map((l) => `d1: ${l}`),
      ...store.postgresUnvalidated.map((c) => `postgres: not validated ${c}`),
    ];
    const result: FuzzResult = {
      seed,
      runs,
      byTarget,
      statuses,
      fiveXx,
      fiveXxRetryable503: retryable503,
      devProxyRetries,
      refusedRequests: refused,
      refusedWithEffects,
      eventsEnqueuedForRefused: eventsForRefused,
      d1RowsWrittenForRefused: rowsForRefused,
      unattributedRows: store.unattributed.length,
      schemaBreakingRows: store.schemaBreaks.length,
      schemaBreakingByStore: schemaByStore,
      schemaBreakingAtOnce: schemaAtOnce,
      constraintProblems,
      rowsChecked: store.rowsChecked,
      drained,
      findings: summaries,
      store,
      seconds: Math.round((Date.now() - started) / 1000),
      ok: false,
      report: "",
    };
    result.ok =
      fiveXx === 0 &&
      refusedWithEffects === 0 &&
      store.unattributed.length === 0 &&
      store.schemaBreaks.length === 0 &&
      schemaAtOnce === 0 &&
      constraintProblems.length === 0;
    result.report = formatReport(result);
    return result;
  } catch (error) {
    log(`wrangler output (last lines):\n${stack.wranglerTail().slice(-40).join("\n")}`);
    throw error;
  } finally {
    await stack.stop();
  }
}

function summarise(findings: Finding[], cases: Case[]): FindingSummary[] {
  const bySignature = new Map<string, FindingSummary>();
  for (const f of findings) {
    const s = bySignature.get(f.signature);
    if (s) {
      s.count++;
      if (s.cases.length < 10) s.cases.push(f.caseIndex);
    } else
      bySignature.set(f.signature, {
        oracle: f.oracle,
        signature: f.signature,
        count: 1,
        cases: [f.caseIndex],
        detail: f.detail,
        example: compact(cases[f.caseIndex]),
      });
  }
  const order: Oracle[] = ["5xx", "refused-effect", "schema", "envelope", "accepted-unpublished"];
  return [...bySignature.values()].sort(
    (a, b) => order.indexOf(a.oracle) - order.indexOf(b.oracle) || b.count - a.count,
  );
}

export function formatReport(r: FuzzResult): string {
  const lines: string[] = [];
  const mark = (ok: boolean) => (ok ? "ok" : "MISSED");
  lines.push(
    `fuzz seed=${r.seed} requests=${r.runs} (webhook ${r.byTarget.webhook}, email ${r.byTarget.email}, admin ${r.byTarget.admin}) seconds=${r.seconds} drained=${r.drained}`,
  );
  lines.push(
    `statuses: ${Object.entries(r.statuses)
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(" ")}`,
  );
  lines.push(
    `1. 5xx answers: ${r.fiveXx} (of which 503 retryable: ${r.fiveXxRetryable503}) [target 0: ${mark(r.fiveXx === 0)}]`,
  );
  if (r.devProxyRetries)
    lines.push(
      `   (sent again: ${r.devProxyRetries} requests wrangler dev's proxy lost before the worker saw them; see send-case.ts)`,
    );
  const t2 = r.refusedWithEffects === 0 && r.unattributedRows === 0;
  lines.push(
    `2. events enqueued for refused input: ${r.eventsEnqueuedForRefused}; D1 rows written for refused input: ${r.d1RowsWrittenForRefused} ` +
      `(${r.refusedWithEffects} of ${r.refusedRequests} refused requests had effects); rows in the stores no accepted request explains: ${r.unattributedRows} [target 0: ${mark(t2)}]`,
  );
  const t3 = r.schemaBreakingRows === 0 && r.schemaBreakingAtOnce === 0 && r.constraintProblems.length === 0;
  lines.push(
    `3. rows breaking their store's schema after the drain: ${r.schemaBreakingRows} (D1 ${r.schemaBreakingByStore.d1}, Postgres ${r.schemaBreakingByStore.postgres}) ` +
      `of ${r.rowsChecked.d1 + r.rowsChecked.postgres} rows checked (D1 ${r.rowsChecked.d1}, Postgres ${r.rowsChecked.postgres}); ` +
      `accepted requests whose row broke its schema when read back at once: ${r.schemaBreakingAtOnce}; constraint problems: ${r.constraintProblems.length} [target 0: ${mark(t3)}]`,
  );
  for (const c of r.constraintProblems.slice(0, 10)) lines.push(`   ${c}`);
  for (const b of r.store.schemaBreaks.slice(0, 10)) lines.push(`   ${b.store} ${b.entity} ${b.id}: ${b.issues}`);
  for (const u of r.store.unattributed.slice(0, 10)) lines.push(`   unexplained: ${u.store} ${u.table} ${u.id}`);
  const tasks = new Map<string, number>();
  for (const t of r.store.failedTasks) tasks.set(t.error_code, (tasks.get(t.error_code) ?? 0) + 1);
  lines.push(
    `failed tasks after the drain (accepted input the replica refused): ${r.store.failedTasks.length}${tasks.size ? ` (${[...tasks].map(([k, v]) => `${k}=${v}`).join(" ")})` : ""}`,
  );
  for (const [code] of tasks) {
    const t = r.store.failedTasks.find((x) => x.error_code === code)!;
    lines.push(`   e.g. ${code} ${t.entity} ${t.row_id}: ${t.error_message.slice(0, 200)}`);
  }
  lines.push(`findings: ${r.findings.length} distinct`);
  for (const f of r.findings) {
    lines.push(`- [${f.oracle}] ×${f.count} ${f.detail.slice(0, 300)} (cases ${f.cases.join(", ")})`);
    lines.push(`    example: ${f.example}`);
    if (f.shrunk)
      lines.push(
        `    shrunk:  ${f.shrunk}${f.shrunkDetail ? `\n    shrunk answer: ${f.shrunkDetail.slice(0, 300)}` : ""}`,
      );
  }
  lines.push(r.ok ? "fuzz: all three targets met" : "fuzz: TARGETS MISSED");
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "10000" },
      seed: { type: "string", default: "1" },
      concurrency: { type: "string", default: "4" },
      "shrink-seconds": { type: "string", default: "20" },
      json: { type: "string" },
      "wrangler-log": { type: "string" },
      "keep-unread-bodies": { type: "boolean", default: false },
    },
  });
  const result = await runFuzz({
    runs: Number(values.runs),
    seed: Number(values.seed),
    concurrency: Number(values.concurrency),
    shrinkSeconds: Number(values["shrink-seconds"]),
    wranglerLogFile: values["wrangler-log"],
    keepUnreadBodies: values["keep-unread-bodies"],
    log: (line) => console.log(line),
  });
  console.log(result.report);
  if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 2));
  process.exit(result.ok ? 0 : 1);
}
