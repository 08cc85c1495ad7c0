import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import type {
  auditEntrySchema,
  FailedTask,
  FailureGroup,
  Job,
  Plan,
  taskDetailSchema,
} from "../../schemas/operator-api";
import { CHAOS_SECRETS, startFaultFreeStack, type ChaosStack } from "../chaos/chaos-stack";
import { sendEmail } from "./support/emails";

const GHOSTS = 4; // prospects Postgres does not have yet
const EMAILS_PER_GHOST = 5;
const EMAILS = GHOSTS * EMAILS_PER_GHOST;
const OPERATOR = "alice";
const REASON = "prospects restored";

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The operator CLI as a separate process, exactly as an operator runs it; never rejects, returns the exit code. */
function cli(stack: ChaosStack, ...args: string[]): Promise<CliRun> {
  const argv = [
    "--import",
    "tsx",
    "tools/cli/ops.ts",
    ...args,
    "--url",
    stack.workerUrl,
    "--token",
    CHAOS_SECRETS.ADMIN_TOKEN,
    "--operator",
    OPERATOR,
  ];
  return new Promise((resolve) => {
    execFile(process.execPath, argv, { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `--json` output of a command that must succeed. */
async function cliJson<T>(stack: ChaosStack, ...args: string[]): Promise<T> {
  const run = await cli(stack, ...args, "--json");
  if (run.code !== 0) throw new Error(`ops ${args.join(" ")} exited ${run.code}\n${run.stderr}\n${run.stdout}`);
  return JSON.parse(run.stdout) as T;
}

/** Polls (no fixed sleeps) until `probe` returns a value; generous deadline for a loaded 2-core machine. */
async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  everyMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for: ${what}${last ? ` (last error: ${(last as Error).message})` : ""}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

describe("operator replay on the real local stack, with the CLI alone", () => {
  it("goes from 'emails are failing' to 'fixed and replayed': groups, failed, show, plan, fix, replay --plan, resolved, audit", async () => {
    const stack = await startFaultFreeStack();
    try {
      // 1. Real failures through the real pipeline: emails (D1-authoritative) for prospects
      //    Postgres does not have, so the to-supabase consumer dead-letters them (foreign key).
      const ghosts = Array.from({ length: GHOSTS }, () => randomUUID());
      const emailIds: string[] = [];
      for (let i = 0; i < EMAILS; i++) {
        emailIds.push(await sendEmail(stack, ghosts[i % GHOSTS]!, i));
      }
      expect(new Set(emailIds).size).toBe(EMAILS);

      // 2. Notice it, with the CLI: one open group gathers all twenty (the message is normalised,
      //    so four different missing prospects are one cause).
      const groups = await until(
        `one open failure group with ${EMAILS} open tasks`,
        async () => {
          const data = await cliJson<{ items: FailureGroup[] }>(stack, "groups", "--status", "open");
          return data.items.length === 1 && data.items[0]!.open_tasks === EMAILS ? data.items : undefined;
        },
        90_000,
        1_000,
      );
      const group = groups[0]!;
      expect(group).toMatchObject({
        status: "open",
        queue: "to-supabase",
        entity: "emails",
        error_code: "FOREIGN_KEY_VIOLATION",
        tasks: EMAILS,
        open_tasks: EMAILS,
        failures: EMAILS,
      });
      // Nothing else is failing, and nothing more arrives for this cause.
      const allGroups = await cliJson<{ items: FailureGroup[] }>(stack, "groups");
      expect(allGroups.items.map((g) => g.id)).toEqual([group.id]);

      // The human rendering an operator reads: a table with the group's row.
      const human = await cli(stack, "groups", "--status", "open");
      expect(human.code).toBe(0);
      const lines = human.stdout.trimEnd().split("\n");
      expect(lines).toHaveLength(3); // header, rule, one group
      expect(lines[0]).toMatch(
        /^id\s+status\s+queue\s+entity\s+error_code\s+open tasks\s+tasks\s+failures\s+last_seen_at\s+message$/,
      );
      expect(lines[1]).toMatch(/^-+(\s+-+)+$/);
      expect(lines[2]).toMatch(
        new RegExp(
          `^${group.id}\\s+open\\s+to-supabase\\s+emails\\s+FOREIGN_KEY_VIOLATION\\s+${EMAILS}\\s+${EMAILS}\\s+${EMAILS}\\s`,
        ),
      );

      // 3. Understand it: the group's tasks are exactly our twenty emails.
      const failed = await cliJson<{ items: FailedTask[]; nextCursor: string | null }>(
        stack,
        "failed",
        "--group",
        group.id,
      );
      expect(failed.items).toHaveLength(EMAILS);
      expect(failed.nextCursor).toBeNull();
      expect(failed.items.map((t) => t.row_id).sort()).toEqual([...emailIds].sort());
      for (const t of failed.items) {
        expect(t).toMatchObject({
          status: "open",
          queue: "to-supabase",
          entity: "emails",
          error_code: "FOREIGN_KEY_VIOLATION",
          group_id: group.id,
          failure_count: 1,
          replay_count: 0,
        });
      }

      const task = failed.items[0]!;
      const detail = await cliJson<z.infer<typeof taskDetailSchema>>(stack, "show", task.id);
      expect(detail.task.id).toBe(task.id);
      const event = detail.task.event as {
        entity: string;
        key: { id: string };
        row: { id: string; prospect_id: string };
      };
      expect(event.entity).toBe("emails");
      expect(event.key.id).toBe(task.row_id);
      expect(event.row.id).toBe(task.row_id);
      expect(ghosts).toContain(event.row.prospect_id);
      const failures = detail.history.filter((h) => h.kind === "failure");
      expect(failures).toHaveLength(1);
      expect(failures[0]!.error_code).toBe("FOREIGN_KEY_VIOLATION");
      expect(detail.history.filter((h) => h.kind === "replay")).toHaveLength(0);

      // Before the fix the emails really are missing from the Postgres replica.
      const [missing] = await stack.sql`select count(*)::int as n from emails where id = any(${emailIds}::uuid[])`;
      expect(missing!.n).toBe(0);

      // 4. Plan: a dry run that freezes the selection and counts it.
      const { plan } = await cliJson<{ plan: Plan }>(stack, "plan", "--group", group.id);
      expect(plan).toMatchObject({
        queue: "to-supabase",
        mode: "original",
        total: EMAILS,
        to_send: EMAILS,
        superseded: 0,
        skipped: 0,
        quarantined_excluded: 0,
        replaying_excluded: 0,
        by_entity: { emails: EMAILS },
        by_error: { FOREIGN_KEY_VIOLATION: EMAILS },
        created_by: OPERATOR,
        job_id: null,
      });

      // A replay without a reason is a usage error (exit 2) and sends nothing.
      const noReason = await cli(stack, "replay", "--plan", plan.id, "--rate", "10");
      expect(noReason.code).toBe(2);
      expect(noReason.stderr).toContain("needs --reason");
      expect((await cliJson<{ items: Job[] }>(stack, "jobs")).items).toEqual([]);
      expect(
        (await cliJson<{ items: FailedTask[] }>(stack, "failed", "--group", group.id, "--status", "open")).items,
      ).toHaveLength(EMAILS);

      // 5. Fix the cause, outside the pipeline: the missing prospects now exist in Postgres.
      for (const [i, id] of ghosts.entries())
        await stack.sql`insert into prospects (id, name) values (${id}, ${`Restored ${i}`})`;

      // 6. Replay the plan as a rate-limited job and watch it to the end (human output this time).
      const started = Date.now();
      const replay = await cli(stack, "replay", "--plan", plan.id, "--reason", REASON, "--rate", "10");
      const replayMs = Date.now() - started;
      expect(replay.code, `${replay.stderr}\n${replay.stdout}`).toBe(0);
      const { items: jobs } = await cliJson<{ items: Job[] }>(stack, "jobs");
      expect(jobs).toHaveLength(1);
      const job = jobs[0]!;
      expect(job).toMatchObject({
        plan_id: plan.id,
        status: "completed",
        queue: "to-supabase",
        total: EMAILS,
        sent: EMAILS,
        superseded: 0,
        skipped: 0,
        remaining: 0,
        rate_per_second: 10,
        reason: REASON,
        created_by: OPERATOR,
      });
      expect(replay.stdout).toMatch(new RegExp(`^job:\\s+${job.id}$`, "m"));
      expect(replay.stdout).toMatch(/^status:\s+completed$/m);
      expect(replay.stdout).toMatch(new RegExp(`^sent:\\s+${EMAILS}$`, "m"));
      expect(replay.stderr).toContain(`job ${job.id} started: ${EMAILS} task(s) at up to 10/s`);
      // Twenty events at 10/s cannot be sent in much under two seconds.
      expect(replayMs).toBeGreaterThan(1_500);

      // 7. Check it: every task resolved (the consumers resolve them as the replays apply) ...
      const resolved = await until(`all ${EMAILS} tasks resolved`, async () => {
        const page = await cliJson<{ items: FailedTask[] }>(
          stack,
          "failed",
          "--group",
          group.id,
          "--status",
          "resolved",
        );
        return page.items.length === EMAILS ? page.items : undefined;
      });
      expect(resolved.map((t) => t.row_id).sort()).toEqual([...emailIds].sort());
      for (const t of resolved) expect(t).toMatchObject({ replay_count: 1, last_job_id: job.id, failure_count: 1 });
      expect(
        (await cliJson<{ items: FailedTask[] }>(stack, "failed", "--group", group.id, "--status", "open")).items,
      ).toEqual([]);
      expect((await cliJson<{ job: Job }>(stack, "watch", job.id)).job.tasks).toEqual({ resolved: EMAILS });

      // ... the emails are in Postgres, each with its prospect ...
      const landed = await stack.sql<
        { id: string; prospect_id: string }[]
      >`select id, prospect_id from emails where id = any(${emailIds}::uuid[])`;
      expect(landed).toHaveLength(EMAILS);
      for (const row of landed) expect(ghosts).toContain(row.prospect_id);

      // ... the task's history shows the replay, by whom and in which job ...
      const after = await cliJson<z.infer<typeof taskDetailSchema>>(stack, "show", task.id);
      expect(after.task.status).toBe("resolved");
      expect(after.history.filter((h) => h.kind === "replay")).toEqual([
        expect.objectContaining({ actor: OPERATOR, job_id: job.id, mode: "original" }),
      ]);

      // ... the group resolved itself ...
      const shown = await until(
        "the group resolved",
        async () => {
          const data = await cliJson<{ group: FailureGroup }>(stack, "group", group.id);
          return data.group.status === "resolved" ? data.group : undefined;
        },
        30_000,
      );
      expect(shown).toMatchObject({ open_tasks: 0, tasks: EMAILS, failures: EMAILS });
      expect((await cliJson<{ items: FailureGroup[] }>(stack, "groups", "--status", "open")).items).toEqual([]);

      // ... and the audit trail names who replayed what, and why.
      const audit = await cliJson<{ items: Array<z.infer<typeof auditEntrySchema>> }>(
        stack,
        "audit",
        "--actor",
        OPERATOR,
      );
      const replays = audit.items.filter((a) => a.action === "replay");
      expect(replays).toHaveLength(1);
      expect(replays[0]).toMatchObject({ actor: OPERATOR, reason: REASON, target_type: "job", target_id: job.id });
      expect(audit.items.filter((a) => a.action === "plan").map((a) => a.target_id)).toEqual([plan.id]);
      expect(audit.items.every((a) => a.actor === OPERATOR)).toBe(true);
    } finally {
      await stack.stop();
    }
  });
});
