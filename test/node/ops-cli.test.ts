/**
 * The operator CLI (`npm run ops`): its pure parts in process, and the real CLI spawned as a child
 * process against a small node:http server that plays the worker's admin API. The server is a
 * stand-in for the CLI's sake only (fixtures are parsed with the contract's schemas so it cannot
 * drift from it); the real worker behind these routes is tested on the whole stack elsewhere.
 */
import { spawn } from "node:child_process";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  failedTaskSchema,
  failureGroupSchema,
  jobSchema,
  operatorTokenSchema,
  planSchema,
  regressionSchema,
  type Job,
} from "../../schemas/operator-api";
import { defaultOperator, parseCli, rejectForeignOptions } from "../../tools/cli/ops/args";
import { jobExitCode } from "../../tools/cli/ops/exit-codes";
import { progressBar, shellQuote, table } from "../../tools/cli/ops/format";
import { jobProgressLine } from "../../tools/cli/ops/job-view";
import {
  createTokenRequest,
  listAuditPath,
  listTasksPath,
  listTokensPath,
  planRequest,
  pointInTime,
  replayTaskRequest,
  startJobRequest,
} from "../../tools/cli/ops/requests";
import { UsageError } from "../../tools/cli/ops/usage-error";

const NOW = new Date("2025-03-01T12:00:00.000Z");
const TASK_ID = "01JN0000000000000000000001";
const PLAN_ID = "01JN0000000000000000000002";
const JOB_ID = "01JN0000000000000000000003";
const GROUP_ID = "0123456789abcdef";
const TOKEN_ID = "01JN0000000000000000000004";
const OPERATOR_TOKEN = `sds_op_${"x".repeat(43)}`;

const task = failedTaskSchema.parse({
  id: TASK_ID,
  queue: "to-supabase",
  event_id: "01JN00000000000000000000EV",
  entity: "emails",
  row_id: "7f1c0c1e-8a4e-4a53-9a55-0f6a4b8f1a11",
  op: "upsert",
  group_id: GROUP_ID,
  error_code: "FOREIGN_KEY_VIOLATION",
  error_message: "emails.prospect_id is not in prospects",
  retryable: false,
  attempts: 1,
  failure_count: 2,
  replay_count: 1,
  status: "open",
  first_failed_at: "2025-03-01T10:00:00.000Z",
  last_failed_at: "2025-03-01T11:00:00.000Z",
  last_replayed_at: "2025-03-01T10:30:00.000Z",
  last_job_id: null,
  resolved_at: null,
});

const group = failureGroupSchema.parse({
  id: GROUP_ID,
  entity: "emails",
  queue: "to-supabase",
  error_code: "FOREIGN_KEY_VIOLATION",
  message_pattern: "emails.prospect_id is not in prospects",
  status: "ignored",
  failures: 4,
  tasks: 3,
  open_tasks: 3,
  first_seen_at: "2025-03-01T10:00:00.000Z",
  last_seen_at: "2025-03-01T11:00:00.000Z",
  status_changed_at: "2025-03-01T12:00:00.000Z",
  status_changed_by: "alice",
  status_reason: "known noise",
});

const plan = planSchema.parse({
  id: PLAN_ID,
  queue: "to-supabase",
  mode: "original",
  override: false,
  filter: { entity: "emails" },
  total: 10,
  superseded: 2,
  to_send: 8,
  skipped: 0,
  quarantined_excluded: 1,
  replaying_excluded: 0,
  by_entity: { emails: 10 },
  by_error: { FOREIGN_KEY_VIOLATION: 7, SCHEMA_VIOLATION: 3 },
  created_at: "2025-03-01T12:00:00.000Z",
  created_by: "alice",
  expires_at: "2025-03-01T13:00:00.000Z",
  job_id: null,
});

const operatorToken = operatorTokenSchema.parse({
  id: TOKEN_ID,
  operator: "alice",
  status: "active",
  created_at: "2025-03-01T12:00:00.000Z",
  created_by: "root",
  expires_at: "2025-05-30T12:00:00.000Z",
  last_used_at: null,
  revoked_at: null,
  revoked_by: null,
});

function job(overrides: Partial<Job>): Job {
  return jobSchema.parse({
    id: JOB_ID,
    plan_id: PLAN_ID,
    queue: "to-supabase",
    mode: "original",
    status: "running",
    override: false,
    rate_per_second: 5,
    total: 10,
    sent: 0,
    superseded: 0,
    skipped: 0,
    remaining: 10,
    reason: "prospects restored",
    created_by: "alice",
    created_at: "2025-03-01T12:00:00.000Z",
    started_at: "2025-03-01T12:00:00.000Z",
    finished_at: null,
    cancelled_by: null,
    last_error: null,
    ...overrides,
  });
}

describe("ops CLI: arguments to requests", () => {
  it("maps failed-task filters to the API's query names, relative times resolved", () => {
    const { options } = parseCli(
      [
        "failed",
        "--status",
        "open",
        "--code",
        "FOREIGN_KEY_VIOLATION",
        "--since",
        "2h",
        "--min-attempts",
        "2",
        "--limit",
        "10",
      ],
      env({}),
    );
    expect(listTasksPath(options, NOW)).toBe(
      "/v1/admin/failed-tasks?status=open&error_code=FOREIGN_KEY_VIOLATION&since=2025-03-01T10%3A00%3A00.000Z&min_attempts=2&limit=10",
    );
    expect(pointInTime("30m", NOW)).toBe("2025-03-01T11:30:00.000Z");
    expect(pointInTime("2025-01-01T00:00:00Z", NOW)).toBe("2025-01-01T00:00:00Z");
  });

  it("rejects what the contract rejects, naming the flag", () => {
    const bad = (argv: string[], call: (o: ReturnType<typeof parseCli>["options"]) => unknown) => {
      try {
        call(parseCli(argv, env({})).options);
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        return (error as Error).message;
      }
      throw new Error(`accepted ${argv.join(" ")}`);
    };
    expect(bad(["failed", "--status", "opne"], (o) => listTasksPath(o, NOW))).toMatch(/^--status:/);
    expect(bad(["failed", "--since", "yesterday"], (o) => listTasksPath(o, NOW))).toMatch(/^--since:/);
    expect(bad(["plan", "--mode", "fast"], (o) => planRequest(o, NOW))).toMatch(/^--mode:/);
    expect(bad(["audit", "--action", "delete"], (o) => listAuditPath(o, NOW))).toMatch(/^--action:/);
    expect(bad(["replay", TASK_ID], (o) => replayTaskRequest(o))).toMatch(/needs --reason/);
    expect(bad(["replay", TASK_ID, "--reason", "x"], (o) => replayTaskRequest(o))).toMatch(/^--reason:/);
    expect(
      bad(["replay", "--plan", PLAN_ID, "--reason", "fixed it", "--rate", "0"], (o) => startJobRequest(PLAN_ID, o)),
    ).toMatch(/^--rate:/);
  });

  it("builds a plan body from filters and ids, and a job body with its rate", () => {
    const { options } = parseCli(
      ["plan", "--entity", "emails", "--ids", `${TASK_ID}, ${PLAN_ID}`, "--mode", "refresh", "--override"],
      env({}),
    );
    expect(planRequest(options, NOW)).toEqual({
      filter: { entity: "emails", ids: [TASK_ID, PLAN_ID] },
      mode: "refresh",
      override: true,
    });
    const run = parseCli(
      ["replay", "--plan", PLAN_ID, "--reason", "prospects restored", "--rate", "20"],
      env({}),
    ).options;
    expect(startJobRequest(PLAN_ID, run)).toEqual({
      plan_id: PLAN_ID,
      reason: "prospects restored",
      rate_per_second: 20,
    });
  });

  it("takes the operator, url and token from flags, then the environment, then defaults", () => {
    expect(parseCli(["jobs"], env({ SDS_OPERATOR: "carol" })).connection).toEqual({
      url: "http://127.0.0.1:8787",
      token: "dev-admin-token",
      operator: "carol",
    });
    expect(defaultOperator(env({}, "John Doe", "box.local"))).toBe("John-Doe@box.local");
    const flags = parseCli(
      ["jobs", "--operator", "dave", "--url", "http://w", "--token", "t"],
      env({ SDS_OPERATOR: "carol", WORKER_URL: "http://x", ADMIN_TOKEN: "y" }),
    );
    expect(flags.connection).toEqual({ url: "http://w", token: "t", operator: "dave" });
    expect(parseCli(["jobs"], env({ WORKER_URL: "http://x", ADMIN_TOKEN: "y" })).connection).toMatchObject({
      url: "http://x",
      token: "y",
    });
    expect(() => parseCli(["jobs", "--operator", "no spaces please"], env({}))).toThrow(UsageError);
    expect(() => parseCli(["jobs", "--bogus"], env({}))).toThrow(UsageError);
    expect(() => rejectForeignOptions("failed", { rate: "3", json: true }, ["status"])).toThrow(
      /failed does not take --rate/,
    );
  });

  it("takes the token from --token, then $SDS_OPERATOR_TOKEN, then $ADMIN_TOKEN; an operator token sends no x-operator unless one is named", () => {
    const both = { SDS_OPERATOR_TOKEN: OPERATOR_TOKEN, ADMIN_TOKEN: "shared" };
    expect(parseCli(["jobs"], env(both)).connection).toEqual({
      url: "http://127.0.0.1:8787",
      token: OPERATOR_TOKEN,
      operator: null,
    });
    expect(parseCli(["jobs", "--token", "t"], env(both)).connection).toMatchObject({
      token: "t",
      operator: "ops@host",
    });
    expect(parseCli(["jobs"], env({ SDS_OPERATOR_TOKEN: "", ADMIN_TOKEN: "shared" })).connection).toMatchObject({
      token: "shared",
      operator: "ops@host",
    });
    // A name given on purpose is still sent: the worker refuses it if the token says otherwise.
    expect(parseCli(["jobs"], env({ ...both, SDS_OPERATOR: "carol" })).connection.operator).toBe("carol");
    expect(parseCli(["jobs", "--operator", "dave"], env(both)).connection.operator).toBe("dave");
  });

  it("builds token requests: --expires relative to now, a reason required, the operator checked", () => {
    const { options } = parseCli(["tokens", "create", "alice", "--reason", "new on call", "--expires", "90d"], env({}));
    expect(createTokenRequest("alice", options, NOW)).toEqual({
      operator: "alice",
      reason: "new on call",
      expires_at: "2025-05-30T12:00:00.000Z",
    });
    expect(() => createTokenRequest("alice", parseCli(["tokens", "create", "alice"], env({})).options, NOW)).toThrow(
      /tokens create needs --reason/,
    );
    expect(() => createTokenRequest("no spaces", options, NOW)).toThrow(/^<operator>:/);
    expect(() => createTokenRequest("alice", { ...options, expires: "soon" }, NOW)).toThrow(/^--expires:/);
    expect(listTokensPath("alice", { status: "active" })).toBe(
      "/v1/admin/operator-tokens?operator=alice&status=active&limit=100",
    );
    expect(() => listTokensPath(undefined, { status: "gone" })).toThrow(/^--status:/);
  });
});

describe("ops CLI: formatting and exit codes", () => {
  it("renders tables, bars and the job progress line", () => {
    expect(
      table([
        { id: "a", n: 1 },
        { id: "bbb", n: null },
      ]),
    ).toBe("id   n\n---  -\na    1\nbbb  -");
    expect(table([])).toBe("(none)");
    expect(progressBar(5, 10, 10)).toBe("[#####.....]  50%");
    expect(progressBar(0, 0, 4)).toBe("[....]   0%");
    expect(shellQuote("it's fixed")).toBe(`'it'\\''s fixed'`);
    expect(shellQuote("simple")).toBe("simple");
    const line = jobProgressLine(job({ sent: 3, superseded: 1, skipped: 1, remaining: 5 }), 2.5);
    expect(line).toContain("sent 3 superseded 1 skipped 1 remaining 5 2.5/s");
    expect(line).toContain("eta 2s");
  });

  it("maps a job's final status to the exit code", () => {
    expect([
      jobExitCode({ status: "completed", tasks: { resolved: 3, superseded: 1 } }),
      jobExitCode({ status: "completed", tasks: { resolved: 3, open: 1 } }),
      jobExitCode({ status: "completed", tasks: { resolved: 3, quarantined: 1 } }),
      jobExitCode({ status: "cancelled", tasks: { resolved: 1 } }),
      jobExitCode({ status: "failed" }),
    ]).toEqual([0, 2, 2, 3, 1]);
  });
});

/* The CLI as a process, against a stand-in for the worker's admin API. */

type Seen = { method: string; url: string; headers: IncomingHttpHeaders; body: unknown };
type Reply = { status?: number; data?: unknown; error?: { code: string; message: string; retryable?: boolean } };

let server: Server;
let baseUrl: string;
let seen: Seen[] = [];
const noRoute = (): Reply => ({ status: 404, error: { code: "NOT_FOUND", message: "no route" } });
let reply: (req: Seen) => Reply = noRoute;

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk) => (raw += chunk));
    req.on("end", () => {
      const request: Seen = {
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: raw ? JSON.parse(raw) : undefined,
      };
      seen.push(request);
      const r = reply(request);
      const meta = { requestId: "test", duration: 0 };
      const envelope = r.error
        ? { success: false, error: { retryable: false, ...r.error }, meta }
        : { success: true, data: r.data, meta };
      res
        .writeHead(r.status ?? (r.error ? 400 : 200), { "content-type": "application/json" })
        .end(JSON.stringify(envelope));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen = [];
  reply = noRoute;
});

/** `token` null: none on the command line (the CLI takes it from the environment). */
function cli(
  args: string[],
  extraEnv: Record<string, string> = {},
  token: string | null = "test-admin-token",
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "tools/cli/ops.ts", ...args, "--url", baseUrl, ...(token === null ? [] : ["--token", token])],
      {
        env: { ...process.env, SDS_OPERATOR: "", SDS_OPERATOR_TOKEN: "", ADMIN_TOKEN: "", ...extraEnv },
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("ops CLI: the process against the admin API", () => {
  it("lists failed tasks with the filters as query parameters, the token and x-operator, and --json prints the data", async () => {
    const page = { items: [task], nextCursor: null };
    reply = () => ({ data: page });
    const r = await cli(
      ["failed", "--status", "open", "--entity", "emails", "--code", "FOREIGN_KEY_VIOLATION", "--json"],
      { SDS_OPERATOR: "alice" },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(page);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.method).toBe("GET");
    expect(seen[0]!.url).toBe(
      "/v1/admin/failed-tasks?status=open&entity=emails&error_code=FOREIGN_KEY_VIOLATION&limit=50",
    );
    expect(seen[0]!.headers.authorization).toBe("Bearer test-admin-token");
    expect(seen[0]!.headers["x-operator"]).toBe("alice");
  });

  it("pages the failure groups: --cursor is passed on, and the next page's cursor is printed", async () => {
    const next = `2090-01-01T00:00:00.000Z~${GROUP_ID}`;
    reply = () => ({ data: { items: [group], nextCursor: next } });
    const r = await cli(["groups", "--status", "open", "--cursor", next]);
    expect(r.code, r.stderr).toBe(0);
    expect(seen.at(-1)!.url).toBe(
      `/v1/admin/failure-groups?${new URLSearchParams({ status: "open", limit: "50", cursor: next })}`,
    );
    expect(r.stdout).toContain(GROUP_ID);
    expect(r.stdout).toContain(`more: add --cursor ${next}`);
    const bad = await cli(["groups", "--cursor", "yesterday"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("cursor: must be the nextCursor of the previous page");
  });

  it("prints a table by default, and shows a task's event and history", async () => {
    reply = (req) =>
      req.url.startsWith("/v1/admin/failed-tasks/")
        ? {
            data: {
              task: { ...task, event: { id: "evt-1", entity: "emails", row: { subject: "Hello" } } },
              history: [
                {
                  at: task.first_failed_at,
                  kind: "failure",
                  job_id: null,
                  actor: null,
                  mode: null,
                  error_code: task.error_code,
                  error_message: task.error_message,
                  message_id: "m1",
                },
              ],
            },
          }
        : { data: { items: [task], nextCursor: TASK_ID } };
    const list = await cli(["failed"]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^id\s+queue\s+entity/);
    expect(list.stdout).toContain(`${TASK_ID}  to-supabase  emails`);
    expect(list.stdout).toContain(`more: add --cursor ${TASK_ID}`);
    const shown = await cli(["show", TASK_ID]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('"subject": "Hello"');
    expect(shown.stdout).toMatch(/history:\nat\s+kind/);
    expect(seen.at(-1)!.url).toBe(`/v1/admin/failed-tasks/${TASK_ID}`);
  });

  it("refuses a mutation without --reason before sending anything (exit 2, with usage)", async () => {
    for (const args of [
      ["replay", TASK_ID],
      ["replay", "--plan", PLAN_ID],
      ["cancel", JOB_ID],
      ["group", GROUP_ID, "ignore"],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toContain("needs --reason");
      expect(r.stderr).toContain("usage: npm run ops --");
    }
    expect(seen).toEqual([]);
    const unknown = await cli(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Commands:");
    const help = await cli(["help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("replay --plan <plan-id> --reason R");
  });

  it("sends a group action with its reason and the operator", async () => {
    reply = () => ({ data: { group } });
    const r = await cli(["group", GROUP_ID, "ignore", "--reason", "known noise", "--operator", "bob"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`group ${GROUP_ID} is now ignored`);
    expect(seen).toMatchObject([
      {
        method: "POST",
        url: `/v1/admin/failure-groups/${GROUP_ID}/ignore`,
        body: { reason: "known noise" },
        headers: { "x-operator": "bob" },
      },
    ]);
  });

  it("prints the worker's error code and message and exits 1, with a hint where one helps", async () => {
    reply = () => ({
      status: 409,
      error: { code: "QUARANTINED", message: "task was replayed 3 times and failed again" },
    });
    const r = await cli(["replay", TASK_ID, "--reason", "prospect restored"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("QUARANTINED");
    expect(r.stderr).toContain("task was replayed 3 times and failed again");
    expect(r.stderr).toContain("--override");
    expect(seen[0]!.body).toEqual({ reason: "prospect restored", mode: "original", override: false });

    reply = noRoute;
    const missing = await cli(["show", TASK_ID]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("NOT_FOUND");
  });

  it("plans, and prints the counts and the command that executes the plan", async () => {
    reply = () => ({ status: 201, data: { plan } });
    const r = await cli([
      "plan",
      "--entity",
      "emails",
      "--since",
      "2025-03-01T00:00:00Z",
      "--reason",
      "prospects restored",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(seen[0]).toMatchObject({
      method: "POST",
      url: "/v1/admin/replay-plans",
      body: {
        filter: { entity: "emails", since: "2025-03-01T00:00:00.000Z" },
        mode: "original",
        override: false,
        reason: "prospects restored",
      },
    });
    expect(r.stdout).toMatch(/to send:\s+8/);
    expect(r.stdout).toMatch(/already superseded:\s+2/);
    expect(r.stdout).toMatch(/quarantined excluded:\s+1 \(add --override/);
    expect(r.stdout).toMatch(/FOREIGN_KEY_VIOLATION\s+7/);
    expect(r.stdout).toContain(`npm run ops -- replay --plan ${PLAN_ID} --reason 'prospects restored'`);
  });

  it("executes a plan and watches the job to completion (exit 0)", async () => {
    const states = [
      job({}),
      job({ sent: 4, superseded: 1, remaining: 5 }),
      job({
        status: "completed",
        sent: 8,
        superseded: 2,
        remaining: 0,
        finished_at: "2025-03-01T12:00:02.000Z",
        tasks: { open: 0, replaying: 0, resolved: 8, superseded: 2, quarantined: 0 },
      }),
    ];
    let polls = 0;
    reply = (req) =>
      req.method === "POST"
        ? { status: 202, data: { job: states[0] } }
        : { data: { job: states[Math.min(++polls, states.length - 1)] } };
    const r = await cli(["replay", "--plan", PLAN_ID, "--reason", "prospects restored", "--rate", "5"]);
    expect(r.code, r.stderr).toBe(0);
    expect(seen[0]).toMatchObject({
      method: "POST",
      url: "/v1/admin/replay-jobs",
      body: { plan_id: PLAN_ID, reason: "prospects restored", rate_per_second: 5 },
    });
    expect(seen.slice(1).every((s) => s.method === "GET" && s.url === `/v1/admin/replay-jobs/${JOB_ID}`)).toBe(true);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(r.stderr).toContain("sent 4 superseded 1 skipped 0 remaining 5");
    expect(r.stdout).toMatch(/status:\s+completed/);
    expect(r.stdout).toMatch(/resolved\s+8/);
  });

  it("exits 3 when the watched job is cancelled and 1 when it failed; --json prints the final job", async () => {
    reply = () => ({
      data: {
        job: job({
          status: "cancelled",
          sent: 2,
          remaining: 8,
          cancelled_by: "bob",
          finished_at: "2025-03-01T12:00:01.000Z",
        }),
      },
    });
    const cancelled = await cli(["watch", JOB_ID, "--json"]);
    expect(cancelled.code, cancelled.stderr).toBe(3);
    expect(JSON.parse(cancelled.stdout).job).toMatchObject({ status: "cancelled", cancelled_by: "bob" });
    expect(cancelled.stderr).toBe(""); // no progress bar under --json

    reply = () => ({
      data: { job: job({ status: "failed", last_error: "D1 unavailable", finished_at: "2025-03-01T12:00:01.000Z" }) },
    });
    const failedJob = await cli(["watch", JOB_ID]);
    expect(failedJob.code).toBe(1);
    expect(failedJob.stdout).toContain("D1 unavailable");
  });

  it("lists open regressions (exit 2 when there are some) and resolves them with a reason, as the operator", async () => {
    const regression = regressionSchema.parse({
      entity: "prospects",
      id: "7f1c0c1e-8a4e-4a53-9a55-0f6a4b8f1a11",
      source_version: 1,
      replica_version: 3,
      replica_state: "tombstone",
      run_id: TASK_ID,
      first_seen_at: "2025-03-01T10:00:00.000Z",
      last_seen_at: "2025-03-01T11:00:00.000Z",
      status: "open",
      resolved_at: null,
      resolved_by: null,
      resolved_version: null,
    });
    reply = (req) =>
      req.method === "GET"
        ? { data: { regressions: [regression] } }
        : {
            data: { resolved: { entity: "prospects", restamped: [{ id: regression.id, version: 4 }], unchanged: [] } },
          };
    const listed = await cli(["regressions", "--entity", "prospects"]);
    expect(listed.code, listed.stderr).toBe(2);
    expect(seen[0]!.url).toBe("/v1/admin/regressions?entity=prospects&status=open&limit=100");
    expect(listed.stdout).toMatch(/prospects\s+7f1c0c1e-8a4e-4a53-9a55-0f6a4b8f1a11\s+1\s+3\s+tombstone/);
    expect(listed.stdout).toContain("npm run ops -- resolve-regression --entity <entity>");

    const refused = await cli(["resolve-regression", "--entity", "prospects"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("needs --reason");
    expect(seen).toHaveLength(1);

    const resolved = await cli([
      "resolve-regression",
      "--entity",
      "prospects",
      "--ids",
      regression.id,
      "--reason",
      "restored to 09:00",
      "--operator",
      "carol",
    ]);
    expect(resolved.code, resolved.stderr).toBe(0);
    expect(seen[1]).toMatchObject({
      method: "POST",
      url: "/v1/admin/regressions/resolve",
      body: { entity: "prospects", ids: [regression.id], reason: "restored to 09:00" },
      headers: { "x-operator": "carol" },
    });
    expect(resolved.stdout).toContain("prospects: 1 source row(s) re-stamped above the replica");
  });

  it("cancels with a reason, and filters the audit trail", async () => {
    reply = (req) =>
      req.url.startsWith("/v1/admin/audit")
        ? {
            data: {
              items: [
                {
                  id: TASK_ID,
                  at: "2025-03-01T12:00:00.000Z",
                  actor: "bob",
                  action: "cancel",
                  reason: "wrong plan",
                  target_type: "job",
                  target_id: JOB_ID,
                  selection: null,
                  result: { sent: 2 },
                },
              ],
              nextCursor: null,
            },
          }
        : { data: { job: job({ status: "cancelled", sent: 2, remaining: 8, cancelled_by: "bob" }) } };
    const c = await cli(["cancel", JOB_ID, "--reason", "wrong plan", "--operator", "bob"]);
    expect(c.code, c.stderr).toBe(0);
    expect(seen[0]).toMatchObject({
      method: "POST",
      url: `/v1/admin/replay-jobs/${JOB_ID}/cancel`,
      body: { reason: "wrong plan" },
    });
    expect(c.stdout).toContain("what was already replayed stays replayed");
    const a = await cli(["audit", "--actor", "bob", "--action", "cancel", "--limit", "5"]);
    expect(a.code, a.stderr).toBe(0);
    expect(seen[1]!.url).toBe("/v1/admin/audit?actor=bob&action=cancel&limit=5");
    expect(a.stdout).toMatch(/bob\s+cancel\s+job 01JN0000000000000000000003\s+wrong plan/);
  });

  it("tokens create prints the token once with how to use it; list and revoke send what they should", async () => {
    const secret = `sds_op_${"s".repeat(43)}`;
    reply = (req) =>
      req.method === "GET"
        ? { data: { items: [operatorToken] } }
        : req.url.endsWith("/revoke")
          ? {
              data: {
                token: {
                  ...operatorToken,
                  status: "revoked",
                  revoked_at: "2025-03-01T12:00:00.000Z",
                  revoked_by: "root",
                },
              },
            }
          : { status: 201, data: { token: operatorToken, secret } };
    const created = await cli([
      "tokens",
      "create",
      "alice",
      "--reason",
      "new on call",
      "--expires",
      "2025-05-30T12:00:00Z",
      "--operator",
      "root",
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect(seen[0]).toMatchObject({
      method: "POST",
      url: "/v1/admin/operator-tokens",
      body: { operator: "alice", reason: "new on call", expires_at: "2025-05-30T12:00:00.000Z" },
      headers: { "x-operator": "root", authorization: "Bearer test-admin-token" },
    });
    expect(created.stdout).toContain(`token ${TOKEN_ID} for alice created`);
    expect(created.stdout).toContain(`  ${secret}\n`);
    expect(created.stdout).toContain("only time it is shown");
    expect(created.stdout).toContain("SDS_OPERATOR_TOKEN");

    const listed = await cli(["tokens", "list", "alice", "--status", "active"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(seen[1]!.url).toBe("/v1/admin/operator-tokens?operator=alice&status=active&limit=100");
    expect(listed.stdout).toMatch(new RegExp(`${TOKEN_ID}\\s+alice\\s+active`));

    const revoked = await cli(["tokens", "revoke", TOKEN_ID, "--reason", "laptop lost"]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(seen[2]).toMatchObject({
      method: "POST",
      url: `/v1/admin/operator-tokens/${TOKEN_ID}/revoke`,
      body: { reason: "laptop lost" },
    });
    expect(revoked.stdout).toContain("is revoked");

    for (const args of [
      ["tokens", "revoke", TOKEN_ID],
      ["tokens", "create", "alice"],
      ["tokens"],
      ["tokens", "rotate"],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(" ")).toBe(2);
    }
    expect(seen).toHaveLength(3);
  });

  it("with $SDS_OPERATOR_TOKEN sends that token and no x-operator; a refused token prints its code and hint", async () => {
    reply = () => ({ data: { items: [], nextCursor: null } });
    const r = await cli(
      ["audit", "--auth", "operator-token"],
      { SDS_OPERATOR_TOKEN: OPERATOR_TOKEN, ADMIN_TOKEN: "shared" },
      null,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(seen[0]!.headers.authorization).toBe(`Bearer ${OPERATOR_TOKEN}`);
    expect(seen[0]!.headers).not.toHaveProperty("x-operator");
    expect(seen[0]!.url).toBe("/v1/admin/audit?auth=operator-token&limit=50");

    reply = () => ({
      status: 403,
      error: { code: "OPERATOR_MISMATCH", message: "this token belongs to alice; x-operator says bob" },
    });
    const mismatch = await cli(
      ["group", GROUP_ID, "ignore", "--reason", "known noise"],
      { SDS_OPERATOR_TOKEN: OPERATOR_TOKEN, SDS_OPERATOR: "bob" },
      null,
    );
    expect(mismatch.code).toBe(1);
    expect(seen[1]!.headers["x-operator"]).toBe("bob");
    expect(mismatch.stderr).toContain("OPERATOR_MISMATCH");
    expect(mismatch.stderr).toContain("drop --operator / $SDS_OPERATOR");

    reply = () => ({ status: 401, error: { code: "TOKEN_REVOKED", message: "operator token was revoked" } });
    const gone = await cli(["failed"], { SDS_OPERATOR_TOKEN: OPERATOR_TOKEN }, null);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("hint: ask an admin for a new token");
  });
});

function env(vars: Record<string, string>, user = "ops", host = "host") {
  return { env: vars, user, host };
}
