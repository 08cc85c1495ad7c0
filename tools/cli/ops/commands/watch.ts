import type { Job } from "../../../../schemas/operator-api";
import { requireArg } from "../args";
import { ApiError } from "../api-client";
import { jobExitCode } from "../exit-codes";
import type { Command, Context } from "../context";
import { jobProgressLine, jobSummary, processed } from "../job-view";

export const POLL_MS = 1_000;
/** A worker restarting (wrangler dev reloads, a deploy) should not end the watch; a worker that stays gone should. */
const MAX_FAILED_POLLS = 5;

/** How long to wait, after the job has sent everything, for the consumers to settle its tasks. */
const SETTLE_MS = 120_000;

/**
 * Polls the job until it ends and its sent tasks have settled (applied, superseded, or failed
 * again), so that exit 0 means "fixed and replayed", not just "sent". Exit 0 completed with every
 * task resolved or superseded; 2 completed but some failed again or were left open (look at them);
 * 3 cancelled; 1 failed. The job runs in the worker either way.
 */
export async function watchJob(ctx: Context, jobId: string): Promise<number> {
  let first: { processed: number; at: number } | undefined;
  let failedPolls = 0;
  let endedAt: number | undefined;
  for (;;) {
    let job: Job;
    try {
      ({ job } = await ctx.api<{ job: Job }>("GET", `/v1/admin/replay-jobs/${encodeURIComponent(jobId)}`));
      failedPolls = 0;
    } catch (error) {
      if (!(error instanceof ApiError && error.retryable) || ++failedPolls >= MAX_FAILED_POLLS) throw error;
      ctx.progress(`(poll failed, retrying: ${error.message})`);
      await ctx.sleep(POLL_MS);
      continue;
    }
    // The rate is what this watch observed, so it is true even when attached to a job mid-way.
    const at = ctx.now().getTime();
    first ??= { processed: processed(job), at };
    const rate = at > first.at ? (processed(job) - first.processed) / ((at - first.at) / 1000) : undefined;
    if (job.status === "running") ctx.progress(jobProgressLine(job, rate));
    else {
      endedAt ??= at;
      const replaying = job.tasks?.replaying ?? 0;
      if (replaying && at - endedAt < SETTLE_MS) {
        ctx.progress(`job ${job.id} ${job.status}; waiting for the consumers to apply ${replaying} replayed task(s)`);
      } else {
        ctx.progressDone();
        ctx.print({ job }, () => jobSummary(job));
        return jobExitCode(job);
      }
    }
    await ctx.sleep(POLL_MS);
  }
}

export const watch: Command = {
  synopsis: "watch <job-id>",
  summary:
    "follow a replay job until its tasks settle (exit 0 all resolved, 2 some failed again, 3 cancelled, 1 failed)",
  options: [],
  async run(ctx) {
    return watchJob(ctx, requireArg("watch", ctx.args, 0, "a job id"));
  },
};
