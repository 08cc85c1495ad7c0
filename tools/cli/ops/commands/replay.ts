import type { FailedTask, Job } from "../../../../schemas/operator-api";
import { EXIT } from "../exit-codes";
import type { Command, Context } from "../context";
import { replayTaskRequest, startJobRequest } from "../requests";
import { UsageError } from "../usage-error";
import { watchJob } from "./watch";

async function replayTask(ctx: Context, id: string): Promise<number> {
  if (ctx.options.rate !== undefined || ctx.options["no-watch"])
    throw new UsageError("--rate and --no-watch go with --plan");
  const body = replayTaskRequest(ctx.options);
  const data = await ctx.api<{ task: FailedTask; outcome: "sent" | "superseded" }>(
    "POST",
    `/v1/admin/failed-tasks/${encodeURIComponent(id)}/replay`,
    body,
  );
  ctx.print(data, () =>
    data.outcome === "superseded"
      ? `task ${id} is superseded: the replica already holds the same or a newer version, so nothing was sent`
      : `task ${id} replayed (${body.mode}, replay #${data.task.replay_count}); it is ${data.task.status} until the consumer applies it: npm run ops -- show ${id}`,
  );
  return EXIT.ok;
}

async function replayPlan(ctx: Context, planId: string): Promise<number> {
  if (ctx.options.mode !== undefined || ctx.options.override)
    throw new UsageError("--mode and --override belong to the plan: make a new plan with them");
  const body = startJobRequest(planId, ctx.options);
  const data = await ctx.api<{ job: Job }>("POST", "/v1/admin/replay-jobs", body);
  if (ctx.options["no-watch"]) {
    ctx.print(
      data,
      () =>
        `job ${data.job.id} started: ${data.job.total} task(s) at up to ${data.job.rate_per_second}/s\nfollow it: npm run ops -- watch ${data.job.id}`,
    );
    return EXIT.ok;
  }
  ctx.progress(
    `job ${data.job.id} started: ${data.job.total} task(s) at up to ${data.job.rate_per_second}/s (Ctrl-C stops watching, not the job)`,
  );
  ctx.progressDone();
  return watchJob(ctx, data.job.id);
}

export const replay: Command = {
  synopsis:
    "replay <task-id> --reason R [--mode original|refresh] [--override]\n  replay --plan <plan-id> --reason R [--rate N] [--no-watch]",
  summary: "replay one task now, or execute a plan as a rate-limited job and watch it",
  options: ["reason", "mode", "override", "plan", "rate", "no-watch"],
  async run(ctx) {
    const taskId = ctx.args[0];
    const planId = ctx.options.plan;
    if (taskId && planId) throw new UsageError("replay takes a task id or --plan, not both");
    if (planId) return replayPlan(ctx, planId);
    if (taskId) return replayTask(ctx, taskId);
    throw new UsageError("replay needs a task id or --plan <plan-id>");
  },
};
