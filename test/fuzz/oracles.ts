import { emails } from "../../schemas/entities/emails";
import { entityByTable } from "../../schemas/registry";
import type { Case } from "./cases";
import type { Observation, Pools } from "./send-case";
import { firstIssuePath, formatIssuesPlain } from "./text";

/**
 * The oracles, applied to each answer as it arrives:
 *
 * 1. `5xx`: any answer ≥ 500, or none at all. A 503 that says `retryable` because a dependency is
 *    down is listed apart, but still counted: the stack is healthy, so there should be none.
 * 2. `refused-effect`: a 4xx whose request nonetheless put a message on a queue or wrote a D1 row
 *    (the fuzz worker's per-request counters). After the drain, store-checks.ts adds rows no
 *    accepted request explains.
 * 3. `schema`: rows that break their entity's schema. Counted on the stores after the drain
 *    (store-checks.ts); per request, an accepted email is read back from D1 at once and parsed, and
 *    an accepted webhook's row is re-parsed as the consumer will store it, so a finding can be
 *    reproduced and shrunk one request at a time.
 *
 * Also reported (not targets): answers that are not the seeds' envelope, emails accepted but whose
 * event could not be published.
 */
export type Oracle = "5xx" | "refused-effect" | "schema" | "envelope" | "accepted-unpublished";

export interface Finding {
  oracle: Oracle;
  /** Findings with one signature are one bug; the first case of each is shrunk. */
  signature: string;
  caseIndex: number;
  detail: string;
  /** The email a schema finding is about, to look at again after the drain. */
  emailId?: string;
}

export interface Verdict {
  findings: Finding[];
  /** `entity:id` keys this accepted request touched (row attribution). */
  touched: string[];
}

export function isRefused(o: Observation): boolean {
  return o.status >= 400 && o.status < 500;
}

/** Looks at one answer; reads back accepted emails through the API (GET is not a fuzz case). */
export async function judge(
  c: Case,
  o: Observation,
  index: number,
  ctx: { pools: Pools; readEmail: (id: string) => Promise<unknown> },
): Promise<Verdict> {
  const findings: Finding[] = [];
  const touched: string[] = [];
  const what = `${c.target} ${c.method} ${c.path.split("?")[0]}`;
  if (o.transportError || o.status >= 500) {
    const kind = o.transportError ? "no answer" : o.status === 503 && o.retryable ? "503 retryable" : `${o.status}`;
    findings.push({
      oracle: "5xx",
      signature: `5xx|${what}|${kind}|${o.code ?? ""}`,
      caseIndex: index,
      detail: `${o.request} -> ${kind} ${o.code ?? ""} ${o.message ?? o.transportError ?? ""}`,
    });
  }
  if (
    isRefused(o) &&
    (o.queueSends > 0 ||
      o.d1RowsWritten > 0 ||
      o.d1Changes > 0 ||
      [o.queueSends, o.d1RowsWritten, o.d1Changes].some(Number.isNaN))
  ) {
    findings.push({
      oracle: "refused-effect",
      signature: `refused-effect|${what}|${o.status}|${o.code ?? ""}`,
      caseIndex: index,
      detail: `${o.request} -> ${o.status} ${o.code} but queue messages=${o.queueSends}, D1 rows written=${o.d1RowsWritten}, D1 changes=${o.d1Changes}`,
    });
  }
  if (o.envelopeProblem && o.status !== 0) {
    findings.push({
      oracle: "envelope",
      signature: `envelope|${what}|${o.status}`,
      caseIndex: index,
      detail: `${o.request} -> ${o.status}: ${o.envelopeProblem}`,
    });
  }

  const accepted = o.status >= 200 && o.status < 300;
  if (accepted && c.target === "webhook" && c.body.kind === "json") {
    const payload = c.body.value as {
      type?: string;
      table?: string;
      record?: Record<string, unknown>;
      old_record?: Record<string, unknown>;
    };
    const entity = typeof payload.table === "string" ? entityByTable(payload.table) : undefined;
    const key = payload.type === "DELETE" ? payload.old_record?.id : payload.record?.id;
    if (entity && typeof key === "string") touched.push(`${entity.name}:${key.toLowerCase()}`);
    if (entity && payload.type !== "DELETE") {
      // The consumer stores what the producer's parse returned; that image must parse again.
      const first = entity.row.safeParse(payload.record);
      const again = first.success ? entity.row.safeParse(first.data) : undefined;
      if (again && !again.success) {
        findings.push({
          oracle: "schema",
          signature: `schema|webhook|${entity.name}|${firstIssuePath(again.error)}`,
          caseIndex: index,
          detail: `${o.request} accepted a ${entity.name} row that will be stored as a row its schema refuses: ${formatIssuesPlain(again.error)}`,
        });
      }
    }
  }
  if (accepted && c.target === "email" && (c.method === "POST" || c.method === "PATCH")) {
    const data = o.data as { email?: { id: string; version: number }; published?: boolean } | undefined;
    const email = data?.email;
    if (email) {
      touched.push(`emails:${email.id.toLowerCase()}`);
      const existing = ctx.pools.email.find((e) => e.id === email.id);
      if (existing) existing.version = Math.max(existing.version, email.version);
      else ctx.pools.email.push({ id: email.id, version: email.version });
      const stored = await ctx.readEmail(email.id);
      const parsed = emails.row.safeParse(stored);
      if (!parsed.success) {
        findings.push({
          oracle: "schema",
          signature: `schema|email|${c.method}|${firstIssuePath(parsed.error)}`,
          caseIndex: index,
          detail: `${o.request} -> ${o.status}; D1 now holds email ${email.id} that its schema refuses: ${formatIssuesPlain(parsed.error)}`,
          emailId: email.id,
        });
      }
      if (data?.published === false) {
        findings.push({
          oracle: "accepted-unpublished",
          signature: `accepted-unpublished|email|${c.method}`,
          caseIndex: index,
          detail: `${o.request} -> ${o.status} published=false: the email is in D1 but its event was not queued`,
        });
      }
    }
  }
  if (accepted && c.target === "admin") collectAdminIds(o.data, ctx.pools);
  return { findings, touched };
}

/** Failed tasks, groups, plans and jobs the admin answers mention become targets of later cases. */
function collectAdminIds(data: unknown, pools: Pools) {
  const add = (list: string[], id: unknown) => {
    if (typeof id === "string" && !list.includes(id) && list.length < 500) list.push(id);
  };
  const d = data as
    | {
        items?: Array<Record<string, unknown>>;
        plan?: { id?: string };
        job?: { id?: string };
        task?: { id?: string };
        group?: { id?: string };
      }
    | undefined;
  if (!d || typeof d !== "object") return;
  for (const item of d.items ?? []) {
    if (typeof item.event_id === "string") {
      add(pools.task, item.id);
      add(pools.group, item.group_id);
    } else if (typeof item.plan_id === "string") add(pools.job, item.id);
    else if (typeof item.open_tasks === "number") add(pools.group, item.id);
  }
  add(pools.plan, d.plan?.id);
  add(pools.job, d.job?.id);
  add(pools.task, d.task?.id);
  add(pools.group, d.group?.id);
}
