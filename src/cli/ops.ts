/**
 * `npm run ops -- <command>`: the operator's side of the worker's admin API.
 *
 *   status                         is each entity in sync, and why not (exit 2 if unhealthy)
 *   reconcile [--entity E] [--dry-run]   compare source and replica, repair what differs
 *   backfill <entity> [--restart]  full resync of a replica, with progress (resumes if interrupted)
 *   integrity                      run the integrity checks (exit 2 if anything is found)
 *   failed [--status open]         list failed tasks
 *   replay <task-id>               replay one failed task
 *
 * Options: --json (machine output), --url (default $WORKER_URL or http://127.0.0.1:8787),
 * --token (default $ADMIN_TOKEN or the dev default). Exit 1 on any error.
 */
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    json: { type: "boolean", default: false },
    url: { type: "string", default: process.env.WORKER_URL ?? "http://127.0.0.1:8787" },
    token: { type: "string", default: process.env.ADMIN_TOKEN ?? "dev-admin-token" },
    entity: { type: "string" },
    status: { type: "string" },
    "dry-run": { type: "boolean", default: false },
    restart: { type: "boolean", default: false },
  },
});

class ApiError extends Error {}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${values.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${values.token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(`cannot reach the worker at ${values.url}: ${(error as Error).message}`);
  }
  const json = (await response.json().catch(() => ({}))) as { success?: boolean; data?: T; error?: { code: string; message: string } };
  if (!json.success) throw new ApiError(`${method} ${path} -> ${response.status} ${json.error?.code ?? ""}: ${json.error?.message ?? "no envelope"}`);
  return json.data as T;
}

function table(rows: Array<Record<string, unknown>>): string {
  if (!rows.length) return "(none)";
  const cols = Object.keys(rows[0]!);
  const cell = (v: unknown) => (v === null || v === undefined ? "-" : typeof v === "object" ? JSON.stringify(v) : String(v));
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(width[i]!)).join("  ").trimEnd();
  return [line(cols), line(width.map((w) => "-".repeat(w))), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join("\n");
}

const out = (data: unknown, human: () => string) => console.log(values.json ? JSON.stringify(data, null, 2) : human());

type Status = {
  healthy: boolean;
  reasons: string[];
  entities: Array<{ entity: string; authority: string; replica: string | null; rows: { supabase: number | null; d1: number }; lagSeconds: number | null; backlog: Record<string, number | null>; openFailedTasks: number; healthy: boolean; reasons: string[] }>;
};

const commands: Record<string, () => Promise<number>> = {
  async status() {
    const s = await api<Status>("GET", "/v1/sync/status");
    out(s, () =>
      [
        table(s.entities.map((e) => ({
          entity: e.entity,
          flow: e.replica ? `${e.authority} -> ${e.replica}` : `${e.authority} only`,
          "rows supabase": e.rows.supabase,
          "rows d1": e.rows.d1,
          "lag s": e.lagSeconds,
          backlog: Object.values(e.backlog)[0] ?? null,
          "failed open": e.openFailedTasks,
          ok: e.healthy ? "yes" : "NO",
        }))),
        "",
        s.healthy ? "healthy" : `NOT healthy:\n${s.reasons.map((r) => `  - ${r}`).join("\n")}`,
      ].join("\n"),
    );
    return s.healthy ? 0 : 2;
  },
  async reconcile() {
    const { runs } = await api<{ runs: Array<Record<string, unknown>> }>("POST", "/v1/admin/reconcile", { entity: values.entity, repair: !values["dry-run"] });
    out(runs, () => table(runs.map(({ entity, status, rows_checked, missing, extra, altered, repaired, skipped }) => ({ entity, status, rows_checked, missing, extra, altered, repaired, skipped }))));
    return runs.some((r) => r.status === "failed") ? 1 : 0;
  },
  async backfill() {
    const entity = positionals[1];
    if (!entity) throw new ApiError("usage: backfill <entity> [--restart]");
    let restart = values.restart;
    for (;;) {
      const { backfill: b } = await api<{ backfill: { status: string; copied: number; applied: number; total_estimate: number | null } }>("POST", `/v1/admin/backfill/${entity}`, { restart });
      restart = false;
      const total = b.total_estimate ?? 0;
      const share = total ? Math.min(1, b.copied / total) : 0;
      const bar = "#".repeat(Math.round(share * 30)).padEnd(30, ".");
      if (!values.json) process.stderr.write(`\r${entity} [${bar}] ${b.copied}/${total || "?"} rows copied`);
      if (b.status === "complete") {
        if (!values.json) process.stderr.write("\n");
        out(b, () => `backfill of ${entity} complete: ${b.copied} rows copied; the replica holds ${b.applied} of them at the source's version (the others had newer live changes)`);
        return 0;
      }
    }
  },
  async integrity() {
    const { run } = await api<{ run: { issues: number; findings: Array<Record<string, unknown> & { count: number }> } }>("POST", "/v1/admin/integrity");
    out(run, () => `${table(run.findings.filter((f) => f.count > 0))}\n\n${run.issues} issue(s) in ${run.findings.length} checks`);
    return run.issues ? 2 : 0;
  },
  async failed() {
    const q = values.status ? `?status=${encodeURIComponent(values.status)}` : "";
    const { items } = await api<{ items: Array<Record<string, unknown>> }>("GET", `/v1/admin/failed-tasks${q}`);
    out(items, () => table(items.map(({ id, queue, entity, row_id, error_code, status, failure_count, last_failed_at }) => ({ id, queue, entity, row_id, error_code, status, failures: failure_count, last_failed_at }))));
    return 0;
  },
  async replay() {
    const id = positionals[1];
    if (!id) throw new ApiError("usage: replay <task-id>");
    const { task } = await api<{ task: Record<string, unknown> }>("POST", `/v1/admin/failed-tasks/${id}/replay`);
    out(task, () => `task ${id} is ${task.status} (replay #${task.replay_count})`);
    return 0;
  },
};

const command = commands[positionals[0] ?? ""];
if (!command) {
  console.error(`usage: npm run ops -- <${Object.keys(commands).join("|")}> [options]  (see src/cli/ops.ts)`);
  process.exit(1);
}
try {
  process.exit(await command());
} catch (error) {
  console.error(error instanceof ApiError ? error.message : error);
  process.exit(1);
}
