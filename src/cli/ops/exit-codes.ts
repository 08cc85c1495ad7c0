import type { JobStatus } from "../../../schemas/operator-api";

/**
 * Exit codes scripts can branch on. 2 is shared: a usage error, or (status, integrity) "ran fine,
 * and found something"; both mean "a human should look" and neither means the worker failed.
 */
export const EXIT = { ok: 0, error: 1, usage: 2, found: 2, cancelled: 3 } as const;

/** A watched job's final status: a cancelled job is not an error (someone chose it) but not success either. */
export function jobExitCode(status: JobStatus): number {
  if (status === "completed") return EXIT.ok;
  if (status === "cancelled") return EXIT.cancelled;
  return EXIT.error;
}
