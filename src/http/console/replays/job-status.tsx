/** @jsxImportSource hono/jsx */
import type { Job } from "../../../../schemas/operator-api";

/** A job's status in words; the colour only repeats it. */
export function JobStatusBadge(props: { status: Job["status"] }) {
  return <span class={`badge job-${props.status}`}>{props.status}</span>;
}

/** Tasks the job has dealt with: sent, or resolved / left alone without sending (as the CLI counts). */
export const handled = (job: Job) => job.sent + job.superseded + job.skipped;

/** Still worth watching: sending, or sent tasks the consumers have not settled yet. */
export const jobStillMoving = (job: Job) => job.status === "running" || (job.tasks?.replaying ?? 0) > 0;
