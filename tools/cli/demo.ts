/**
 * `npm run demo`: starts a throwaway stack (fresh in-memory PGlite, fresh local D1 in a temporary
 * directory, wrangler dev on a free port) and walks through the pipeline step by step:
 * Postgres -> D1, D1 -> Postgres, a poison event that is dead-lettered, its fix and replay.
 * Exits 0 when every step succeeded, 1 with the reason otherwise. DATABASE_URL is ignored on
 * purpose: the demo never writes into a database you care about. `--keep` leaves the stack running
 * afterwards (until Ctrl-C) to look at what the demo did in the operator console.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevStack, type DevSecrets, type DevStack } from "../local/dev-stack";
import { freePort } from "../local/throwaway-postgres";
import { consoleHint, DEV_ADMIN_TOKEN, DEV_PORT } from "./console-hint";

const keep = process.argv.includes("--keep");

const STEP_TIMEOUT_MS = 20_000;
const D1_POLL_MS = 100;
const secrets: DevSecrets = {
  WEBHOOK_SECRET: "demo-webhook-secret",
  ADMIN_TOKEN: "demo-admin-token",
  API_TOKEN: "demo-api-token",
};

const tmp = mkdtempSync(join(tmpdir(), "sds-demo-"));
// Synchronous cleanup on every way out (Miniflare's own SIGINT handler calls process.exit()).
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));

const wranglerTail: string[] = [];
const timings: Array<{ what: string; ms: number }> = [];

const say = (line = "") => console.log(line);
const detail = (line: string) => console.log(`     ${line}`);
const heading = (n: number, title: string) => say(`\n[${n}] ${title}`);

interface Envelope<T = any> {
  success: boolean;
  data?: T;
  error?: { code: string; message: string; retryable: boolean };
}

class StepTimeout extends Error {}

/**
 * Polls `probe` until it returns a value and records how long that took from `since`. Postgres
 * (PGlite) is cheap to poll; D1 is polled every 100 ms because each read from this process takes
 * the SQLite write lock the worker needs (see tools/local/local-d1.ts).
 */
async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  since = Date.now(),
  everyMs = 25,
): Promise<T> {
  const deadline = since + STEP_TIMEOUT_MS;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined && value !== false) {
      const ms = Date.now() - since;
      timings.push({ what, ms });
      detail(`✓ ${what} after ${ms} ms`);
      return value;
    }
    if (Date.now() > deadline) throw new StepTimeout(`timed out after ${STEP_TIMEOUT_MS} ms waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

async function main(stack: DevStack) {
  const api = async <T>(
    method: string,
    path: string,
    token: string,
    body?: unknown,
  ): Promise<{ status: number; json: Envelope<T> }> => {
    const response = await fetch(`${stack.workerUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "x-operator": "demo" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Envelope<T> };
  };
  const expectOk = <T>(r: { status: number; json: Envelope<T> }, what: string): T => {
    if (!r.json.success || r.json.data === undefined)
      throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.json.error)}`);
    return r.json.data;
  };
  const d1Prospect = async (id: string) =>
    (await stack.d1<{ stage: string; version: number }>("SELECT stage, version FROM prospects WHERE id = ?1", [id]))[0];
  const pgEmail = async (id: string) =>
    (
      await stack.query<{ status: string; version: string }>(
        "select status, version from public.emails where id = $1",
        [id],
      )
    )[0];
  const insertProspect = async (name: string, id: string = randomUUID()) => {
    await stack.query("insert into public.prospects (id, name, contact_email, city) values ($1, $2, $3, 'Lisbon')", [
      id,
      name,
      `hello@${name.toLowerCase().replaceAll(/\W/g, "")}.test`,
    ]);
    return id;
  };
  const emailBody = (prospectId: string) => ({
    prospect_id: prospectId,
    to_email: "ceo@acme.test",
    from_email: "sales@example.test",
    subject: "Quick question",
    body: "Hello!",
    status: "sent",
    sent_at: new Date().toISOString(),
  });

  heading(1, "Supabase -> D1: statement-level capture (one pg_net request per statement), applied to the D1 replica");
  let t = Date.now();
  const acme = await insertProspect("Acme");
  detail(`inserted prospect ${acme} (Acme) in Postgres`);
  await waitFor("insert visible in D1", () => d1Prospect(acme), t, D1_POLL_MS);

  t = Date.now();
  await stack.query("update public.prospects set stage = 'enriching' where id = $1", [acme]);
  detail("updated its stage new -> enriching (Postgres bumps version to 2)");
  const updated = await waitFor(
    "update visible in D1",
    async () => {
      const row = await d1Prospect(acme);
      return row?.version === 2 ? row : undefined;
    },
    t,
    D1_POLL_MS,
  );
  detail(`D1 row: stage=${updated.stage} version=${updated.version}`);

  const globex = await insertProspect("Globex");
  await waitFor("second prospect (Globex) visible in D1", () => d1Prospect(globex), Date.now(), D1_POLL_MS);
  t = Date.now();
  await stack.query("delete from public.prospects where id = $1", [globex]);
  detail(`deleted prospect ${globex} (Globex) in Postgres`);
  await waitFor("delete visible in D1", async () => !(await d1Prospect(globex)), t, D1_POLL_MS);
  const [tomb] = await stack.d1<{ version: number }>(
    "SELECT version FROM sync_tombstones WHERE entity = 'prospects' AND id = ?1",
    [globex],
  );
  detail(`D1 keeps a tombstone at version ${tomb?.version} so a late, older event cannot resurrect it`);

  heading(2, "D1 -> Supabase: the email API writes D1 (authoritative), the queue fills the Postgres replica");
  t = Date.now();
  const sent = expectOk(
    await api<{ email: { id: string; version: number } }>("POST", "/v1/emails", secrets.API_TOKEN, emailBody(acme)),
    "POST /v1/emails",
  );
  const emailId = sent.email.id;
  detail(`POST /v1/emails -> 201, email ${emailId} version ${sent.email.version}`);
  await waitFor("email visible in Postgres", () => pgEmail(emailId), t);

  t = Date.now();
  const patched = expectOk(
    await api<{ email: { status: string; version: number } }>("PATCH", `/v1/emails/${emailId}`, secrets.API_TOKEN, {
      status: "delivered",
      expectedVersion: 1,
    }),
    "PATCH /v1/emails/:id",
  );
  detail(`PATCH status sent -> delivered (expectedVersion 1) -> version ${patched.email.version}`);
  await waitFor(
    "status change visible in Postgres",
    async () => {
      const row = await pgEmail(emailId);
      return row?.status === "delivered" && Number(row.version) === 2 ? row : undefined;
    },
    t,
  );

  heading(3, "Poison event: an email for a prospect Postgres does not have");
  const ghost = randomUUID();
  t = Date.now();
  const poison = expectOk(
    await api<{ email: { id: string } }>("POST", "/v1/emails", secrets.API_TOKEN, emailBody(ghost)),
    "POST /v1/emails (poison)",
  );
  const poisonId = poison.email.id;
  detail(`POST /v1/emails with prospect_id ${ghost} -> 201 (D1 accepts it; Postgres has a foreign key)`);
  type Task = {
    id: string;
    row_id: string | null;
    error_code: string;
    error_message: string;
    attempts: number;
    status: string;
  };
  const task = await waitFor(
    "dead-lettered into failed_tasks",
    async () => {
      const page = expectOk(
        await api<{ items: Task[] }>("GET", "/v1/admin/failed-tasks?entity=emails", secrets.ADMIN_TOKEN),
        "GET /v1/admin/failed-tasks",
      );
      return page.items.find((item) => item.row_id === poisonId);
    },
    t,
  );
  detail(`GET /v1/admin/failed-tasks -> task ${task.id}`);
  detail(`error_code=${task.error_code} attempts=${task.attempts} status=${task.status}`);
  detail(`message: ${task.error_message}`);
  if (await pgEmail(poisonId)) throw new Error("the poison email should not be in Postgres");

  heading(4, "Fix the cause, replay the task");
  await insertProspect("Initech", ghost);
  detail(`inserted the missing prospect ${ghost} (Initech) in Postgres`);
  t = Date.now();
  const replay = await api<{ task: Task }>("POST", `/v1/admin/failed-tasks/${task.id}/replay`, secrets.ADMIN_TOKEN, {
    reason: "demo: the missing prospect now exists",
  });
  detail(
    `POST /v1/admin/failed-tasks/${task.id}/replay -> ${replay.status} (${expectOk(replay, "replay").task.status})`,
  );
  await waitFor("replayed email visible in Postgres", () => pgEmail(poisonId), t);
  await waitFor(
    "task resolved",
    async () => {
      const data = expectOk(
        await api<{ task: Task }>("GET", `/v1/admin/failed-tasks/${task.id}`, secrets.ADMIN_TOKEN),
        "GET task",
      );
      return data.task.status === "resolved" ? data.task : undefined;
    },
    t,
  );
}

say("supabase-d1-sync demo: starting a throwaway stack (in-memory PGlite, temporary D1, wrangler dev)…");
const startedAt = Date.now();
let stack: DevStack | undefined;
let failure: Error | undefined;
try {
  stack = await startDevStack({
    port: await freePort(),
    persistDir: join(tmp, "wrangler"),
    pglite: { port: 0 },
    secrets,
    log: (line) => detail(`· ${line}`),
    wranglerOutput: (line) => {
      wranglerTail.push(line);
      if (wranglerTail.length > 60) wranglerTail.shift();
    },
  });
  await stack.d1("SELECT 1"); // start the D1 reader now, so its start-up is not counted as latency
  say(
    `stack ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s: worker ${stack.workerUrl}, postgres ${stack.databaseUrl}`,
  );
  await main(stack);
} catch (error) {
  failure = error as Error;
}

if (failure) {
  say(`\n✗ demo failed: ${failure.message}`);
  if (stack) {
    // Dead-lettered events say why a change did not arrive.
    const tasks = await fetch(`${stack.workerUrl}/v1/admin/failed-tasks`, {
      headers: { authorization: `Bearer ${secrets.ADMIN_TOKEN}` },
    })
      .then((r) => r.json() as Promise<Envelope<{ items: Array<Record<string, unknown>> }>>)
      .catch(() => undefined);
    for (const t of tasks?.data?.items ?? [])
      say(`  failed task ${t.id}: ${t.entity} ${t.row_id} ${t.error_code}: ${t.error_message}`);
  }
  if (!(failure instanceof StepTimeout) || wranglerTail.length) {
    say("  last lines of wrangler dev:");
    for (const line of wranglerTail.slice(-30)) say(`    ${line}`);
  }
} else {
  say("\nSummary (wall-clock from the action to the observed result; D1 polled every 100 ms, Postgres every 25 ms):");
  for (const { what, ms } of timings) say(`  ${String(ms).padStart(6)} ms  ${what}`);
  say("All steps passed.");
  if (keep && stack) {
    say(`\nThe stack keeps running (Ctrl-C stops it). What the demo did, in the operator console:`);
    say(`  ${consoleHint(stack.workerUrl, secrets.ADMIN_TOKEN)}`);
    say("  Failures and replays, Consistency (reconcile, backfill), Audit (the replay above, by 'demo').");
    await new Promise(() => {}); // until SIGINT/SIGTERM: the 'exit' hooks stop wrangler and Postgres
  }
  say("\nThe operator console: run `npm run dev`, then open");
  say(`  ${consoleHint(`http://127.0.0.1:${DEV_PORT}`, DEV_ADMIN_TOKEN)}`);
  say("  (or `npm run demo -- --keep` to look at this demo's stack in it)");
}
await stack?.stop();
process.exit(failure ? 1 : 0);
