import type { Job } from "../../../schemas/operator-api";
import { countTable, keyValues, progressBar, seconds } from "./format";

/** Tasks the job has dealt with: sent, or resolved / left alone without sending. */
export const processed = (job: Job) => job.sent + job.superseded + job.skipped;

export function jobProgressLine(job: Job, ratePerSecond: number | undefined): string {
  const rate = ratePerSecond === undefined ? "-" : ratePerSecond.toFixed(1);
  const eta = ratePerSecond ? ` eta ${seconds(job.remaining / ratePerSecond)}` : "";
  return `job ${job.id} ${progressBar(processed(job), job.total)} sent ${job.sent} superseded ${job.superseded} skipped ${job.skipped} remaining ${job.remaining} ${rate}/s (limit ${job.rate_per_second}/s)${eta}`;
}

export function jobSummary(job: Job): string {
  const lines = [
    keyValues({
      job: job.id,
      status: job.status,
      plan: job.plan_id,
      queue: job.queue,
      mode: job.mode,
      ...(job.override ? { override: "yes (quarantined tasks included)" } : {}),
      reason: job.reason,
      "started by": job.created_by,
      ...(job.cancelled_by ? { "cancelled by": job.cancelled_by } : {}),
      started: job.started_at,
      finished: job.finished_at,
      total: job.total,
      sent: job.sent,
      superseded: job.superseded,
      skipped: job.skipped,
      remaining: job.remaining,
      ...(job.last_error ? { error: job.last_error } : {}),
    }),
  ];
  if (job.tasks) lines.push("", "the job's tasks now:", countTable(job.tasks, "status"));
  // Sent is not applied: the consumers resolve each replayed task when its event applies.
  if (job.tasks?.replaying)
    lines.push("", `${job.tasks.replaying} task(s) still replaying: the consumers resolve them as their events apply.`);
  const again = (job.tasks?.open ?? 0) + (job.tasks?.quarantined ?? 0);
  if (job.status === "completed" && again)
    lines.push(
      "",
      `${again} task(s) failed again or were left open: npm run ops -- failed --status open (or quarantined)`,
    );
  if (job.status === "cancelled")
    lines.push("", "cancelled: what was already replayed stays replayed; the rest is untouched.");
  return lines.join("\n");
}
