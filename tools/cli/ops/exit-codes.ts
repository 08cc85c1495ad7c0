import type { Job } from "../../../schemas/operator-api";

/**
 * Exit codes scripts can branch on. 2 is shared: a usage error, or (status, integrity) "ran fine,
 * and found something"; both mean "a human should look" and neither means the worker failed.
 */
export const EXIT = { ok: 0, error: 1, usage: 2, found: 2, cancelled: 3 } as const;

/**
 * A watched job's outcome: completed with every task resolved or superseded is success; a task that
 * failed again (open, quarantined) or is still replaying needs a look; a cancelled job is not an
 * error (someone chose it) but not success either.
 */
export function jobExitCode(job: Pick<Job, "status" | "tasks">): number {
  if (job.status === "cancelled") return EXIT.cancelled;
  if (job.status !== "completed") return EXIT.error;
  const unsettled = (job.tasks?.open ?? 0) + (job.tasks?.quarantined ?? 0) + (job.tasks?.replaying ?? 0);
  return unsettled ? EXIT.found : EXIT.ok;
}
