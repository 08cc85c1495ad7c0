import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readSettings, type SettingName } from "../core/settings";
import { LIST_PAGE_SIZE } from "../producers/hubspot/client";
import { bucketFor } from "../producers/hubspot/rate-budget";
import { connectStandInPortal } from "../tools/local/hubspot-connection";
import { startHubSpotStandIn, type HubSpotStandIn } from "../tools/local/hubspot-standin";
import { PROJECT_ROOT } from "../tools/local/wrangler";
import { BENCH_SECRETS, type BenchStack } from "./stack";
import { distribution, round, sleep, type Distribution } from "./stats";

/**
 * Issue 13: a full HubSpot contacts sync against the local stand-in, as fast as the worker goes.
 * The stand-in enforces HubSpot's published limit (100 requests / 10 s, 429 beyond it); the worker
 * runs with its configured budget (wrangler.toml's HUBSPOT_RATE_LIMIT and HUBSPOT_PAGES_PER_STEP,
 * not overridden here). The ceiling is what that budget allows: 100 contacts per list page ×
 * budget per 10 s. The sync is done when the session is completed AND Supabase holds every
 * contact once (the to-supabase consumer applied them).
 *
 * Where the time goes, measured rather than guessed: every consumer invocation is recorded by the
 * bench worker (sync-control: one full-sync step each; to-supabase: the apply), the stand-in's
 * request count is sampled every 250 ms, and the session's progress is polled.
 */
export interface HubSpotResult {
  contacts: number;
  /** The stand-in's enforced limit (HubSpot's published one for OAuth apps, Free/Starter). */
  publishedLimitPer10s: number;
  /** The worker's own budget and step size, as wrangler.toml configures them. */
  budgetPer10s: number;
  pagesPerStep: number;
  /** 100 contacts per page × budget per 10 s, in contacts/s. */
  ceilingContactsPerSecond: number;
  /**
   * The worker's token bucket for that budget (producers/hubspot/rate-budget.ts): a burst of a
   * tenth, then the rest refilled evenly, so no 10 s window exceeds the budget; sustained it
   * allows the refill rate only. `allowedInReadTime`: burst + refill × the session's read time.
   */
  bucket: { burst: number; refillPerSecond: number; sustainedContactsPerSecond: number; allowedInReadTime: number };
  sessionStatus: string;
  /** Start (the POST) → the session completed (every page read and queued). */
  readSeconds: number;
  /** Start → the last to-supabase batch holding a contact finished, with every contact in Supabase. */
  allAppliedSeconds: number;
  contactsPerSecond: number;
  fractionOfCeiling: number;
  contactsInSupabase: number;
  distinctInSupabase: number;
  requests: number;
  listRequests: number;
  /** API requests per second while the session read (start → completed). */
  requestsPerSecondReading: number;
  byRoute: Record<string, number>;
  throttled429: number;
  /** The most API requests the stand-in saw in any rolling 10 s window. */
  peakIn10s: number;
  steps: {
    count: number;
    ms: Distribution;
    /** One step finished → the next began: the control queue's scheduling. */
    gapMs: Distribution;
    gapSecondsTotal: number;
    /** The POST → the first step began. */
    firstStepAfterMs: number;
    /** Mean ms per page inside a step (step time ÷ its pages, pages from the requests counted). */
    msPerPage: number;
  };
  supabaseApply: {
    batches: number;
    meanBatchSize: number;
    msPerBatch: Distribution;
    /** Sum of the apply invocations' time: how busy the to-supabase consumer was. */
    busySeconds: number;
    /** Session completed → the last contact applied. */
    tailSeconds: number;
    /** Contacts ÷ busy seconds: what the apply could take, one invocation at a time as locally. */
    contactsPerBusySecond: number;
  };
}

type BatchRun = [string, number, number, number];

/** HubSpot's published limit for OAuth apps (Free/Starter): 100 requests per rolling 10 s. */
const PUBLISHED_LIMIT = 100;
const WINDOW_MS = 10_000;
const TOKEN_KEYS = `bench:${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64")}`;

/** The stand-in with `contacts` generated, and the worker vars that point the worker at it. */
export async function startHubSpotBench(contacts: number) {
  const standIn = await startHubSpotStandIn({ limits: { general: { limit: PUBLISHED_LIMIT, windowMs: WINDOW_MS } } });
  standIn.portal.generate(contacts);
  const vars = {
    HUBSPOT_CLIENT_ID: standIn.clientId,
    HUBSPOT_CLIENT_SECRET: standIn.clientSecret,
    HUBSPOT_API_BASE: standIn.url,
    HUBSPOT_AUTH_BASE: standIn.url,
    HUBSPOT_TOKEN_KEYS: TOKEN_KEYS,
  };
  return { standIn, vars };
}

/** What the worker runs with: wrangler.toml's [vars] (the bench does not override these two). */
export function configuredHubSpotSettings() {
  const toml = readFileSync(join(PROJECT_ROOT, "wrangler.toml"), "utf8");
  const read = (name: SettingName) => new RegExp(`^${name}\\s*=\\s*"([^"]*)"`, "m").exec(toml)?.[1];
  const settings = readSettings({
    HUBSPOT_RATE_LIMIT: read("HUBSPOT_RATE_LIMIT"),
    HUBSPOT_PAGES_PER_STEP: read("HUBSPOT_PAGES_PER_STEP"),
  });
  return { budgetPer10s: settings.HUBSPOT_RATE_LIMIT, pagesPerStep: settings.HUBSPOT_PAGES_PER_STEP };
}

export async function hubspotRun(
  stack: BenchStack,
  standIn: HubSpotStandIn,
  opts: { contacts: number; log: (l: string) => void; timeoutSeconds: number },
): Promise<HubSpotResult> {
  const { budgetPer10s, pagesPerStep } = configuredHubSpotSettings();
  await connectStandInPortal(stack.sql, standIn, TOKEN_KEYS);
  await stack.bench("recorder", { batches: true });
  const runs: BatchRun[] = [];
  const pull = async () => runs.push(...(await stack.bench<{ batches: BatchRun[] }>("recorder")).batches);
  const before = standIn.stats();

  const started = Date.now();
  const res = await fetch(`${stack.workerUrl}/v1/hubspot/sync`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${BENCH_SECRETS.ADMIN_TOKEN}`,
      "content-type": "application/json",
      "x-operator": "bench",
    },
    body: JSON.stringify({ full: true }),
  });
  const body = (await res.json()) as { data?: { session?: { id: string } } };
  const sessionId = body.data?.session?.id;
  if (res.status !== 202 || !sessionId)
    throw new Error(`starting the sync: HTTP ${res.status} ${JSON.stringify(body)}`);

  let status = "pending";
  let completedAt = NaN;
  let applied = { n: 0, d: 0 };
  let lastProgress = Date.now();
  let lastLog = Date.now();
  let lastPull = Date.now();
  let progress = -1;
  const deadline = started + opts.timeoutSeconds * 1000;
  while (Date.now() < deadline && Date.now() - lastProgress < 60_000) {
    await sleep(250);
    const [s] = await stack.sql`select status, records_count, error,
                                       (extract(epoch from end_time) * 1000)::float8 as ended
                                  from sync_sessions where id = ${sessionId}`;
    status = String(s!.status);
    if (status === "completed") completedAt = Number(s!.ended);
    if (status === "failed") throw new Error(`the sync session failed: ${String(s!.error)}`);
    const [c] = await stack.sql`select count(*)::int as n, count(distinct hubspot_id)::int as d from contacts`;
    applied = c as { n: number; d: number };
    const now = Number(s!.records_count) + applied.n;
    if (now !== progress) [progress, lastProgress] = [now, Date.now()];
    if (Date.now() - lastPull > 1000) {
      lastPull = Date.now();
      await pull();
    }
    if (Date.now() - lastLog > 5000) {
      lastLog = Date.now();
      opts.log(`  ${Math.round((Date.now() - started) / 1000)} s: ${s!.records_count} read, ${applied.n} in Supabase`);
    }
    if (status === "completed" && applied.d >= opts.contacts) break;
  }
  await sleep(1500); // the last apply invocation's record (it is noted when the invocation returns)
  await pull();
  await stack.bench("recorder", {});
  const after = standIn.stats();
  if (applied.d < opts.contacts) opts.log(`hubspot: gave up with ${applied.d} of ${opts.contacts} contacts applied`);

  const steps = runs.filter((r) => r[0] === "sync-control" && r[2] >= started).sort((a, b) => a[2] - b[2]);
  const applies = runs.filter((r) => r[0] === "to-supabase" && r[2] >= started);
  const lastApplied = Math.max(...applies.map((r) => r[2] + r[3]));
  const allAppliedMs = applied.d >= opts.contacts ? lastApplied - started : Infinity;
  const gaps = steps.slice(1).map((r, i) => r[2] - (steps[i]![2] + steps[i]![3]));
  const byRoute = diff(after.byRoute, before.byRoute);
  const listRequests = byRoute["GET /crm/v3/objects/contacts"] ?? 0;
  const requests = Object.entries(byRoute)
    .filter(([route]) => route.includes("/crm/"))
    .reduce((sum, [, count]) => sum + count, 0);
  const ceiling = (LIST_PAGE_SIZE * budgetPer10s) / (WINDOW_MS / 1000);
  const contactsPerSecond = round(opts.contacts / (allAppliedMs / 1000));
  const readMs = completedAt - started;
  const stepMs = steps.reduce((sum, r) => sum + r[3], 0);
  const bucket = bucketFor(budgetPer10s, WINDOW_MS);
  const applyBusyMs = applies.reduce((sum, r) => sum + r[3], 0);
  return {
    contacts: opts.contacts,
    publishedLimitPer10s: PUBLISHED_LIMIT,
    budgetPer10s,
    pagesPerStep,
    ceilingContactsPerSecond: ceiling,
    bucket: {
      burst: bucket.capacity,
      refillPerSecond: round(bucket.refillPerMs * 1000, 2),
      sustainedContactsPerSecond: round(bucket.refillPerMs * 1000 * LIST_PAGE_SIZE),
      allowedInReadTime: Math.floor(bucket.capacity + bucket.refillPerMs * readMs),
    },
    sessionStatus: status,
    readSeconds: round(readMs / 1000, 2),
    allAppliedSeconds: round(allAppliedMs / 1000, 2),
    contactsPerSecond,
    fractionOfCeiling: round(contactsPerSecond / ceiling, 2),
    contactsInSupabase: applied.n,
    distinctInSupabase: applied.d,
    requests,
    listRequests,
    requestsPerSecondReading: round(requests / (readMs / 1000), 2),
    byRoute,
    throttled429: after.throttled - before.throttled,
    // The stand-in's own high-water mark over its lifetime: only this phase used it.
    peakIn10s: after.maxInGeneralWindow,
    steps: {
      count: steps.length,
      ms: distribution(steps.map((r) => r[3])),
      gapMs: distribution(gaps),
      gapSecondsTotal: round(gaps.reduce((sum, g) => sum + g, 0) / 1000, 2),
      firstStepAfterMs: steps.length ? steps[0]![2] - started : NaN,
      msPerPage: round(stepMs / Math.max(1, listRequests), 1),
    },
    supabaseApply: {
      batches: applies.length,
      meanBatchSize: round(applies.reduce((sum, r) => sum + r[1], 0) / Math.max(1, applies.length), 1),
      msPerBatch: distribution(applies.map((r) => r[3])),
      busySeconds: round(applyBusyMs / 1000, 2),
      tailSeconds: round((lastApplied - completedAt) / 1000, 2),
      contactsPerBusySecond: round(opts.contacts / (applyBusyMs / 1000)),
    },
  };
}

function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([k, v]) => [k, v - (before[k] ?? 0)] as const)
      .filter(([, v]) => v > 0),
  );
}
