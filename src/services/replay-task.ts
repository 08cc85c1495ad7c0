import type { FailedTask, ReplayMode } from "../../schemas/operator-api";
import { ConflictError, TransientError, ValidationError } from "../../core/errors";
import { utcNow } from "../../core/utc";
import { auditStatement, type Actor } from "./audit";
import { getFailedTask } from "./failed-tasks";
import { commitAndSend } from "./replay-commit";
import { decideReplays, type ReplayableTask, type ReplayStores, type SkipCode } from "./replay-decide";

const CONFLICTS: ReadonlySet<SkipCode> = new Set([
  "ALREADY_RESOLVED",
  "ALREADY_REPLAYING",
  "QUARANTINED",
  "HUBSPOT_NOT_CONNECTED",
]);

/**
 * Replays one failed task now (no job, no rate limit): the same guards and marker as a job. A
 * superseded task is resolved without sending; a quarantined or still replaying one needs `override`.
 */
export async function replayOneTask(
  deps: { db: D1Database; queues: Record<string, Queue>; stores: ReplayStores },
  id: string,
  req: { mode: ReplayMode; override: boolean; actor: Actor; reason: string },
): Promise<{ task: FailedTask; outcome: "sent" | "superseded" }> {
  const task = await getFailedTask(deps.db, id);
  // A task already replaying was sent and is not settled yet: sending it again is refused
  // (ALREADY_REPLAYING) unless the operator overrides, e.g. for a task a dead job runner left stuck.
  const opts = {
    mode: req.mode,
    override: req.override,
    allowReplaying: req.override,
    actor: req.actor.name,
    jobId: null,
    now: utcNow(),
  };
  // The job's guards, answered as errors: a task left alone says why with a stable code.
  const [decision] = await decideReplays(deps.stores, [task as ReplayableTask], opts);
  if (decision!.outcome === "skipped") {
    const message = `failed task ${id} (${task.replay_count} replays): ${decision!.detail}`;
    // The task's state or the connection's is in the way (409); otherwise the task itself cannot
    // be sent, answered with the code's catalogued status (422, TASK_EXPIRED 410, EVENT_TOO_LARGE 413).
    if (CONFLICTS.has(decision!.code)) throw new ConflictError(decision!.code, message);
    throw new ValidationError(decision!.code, message);
  }

  const audit = (result: unknown) =>
    auditStatement(deps.db, {
      actor: req.actor,
      action: task.status === "quarantined" || task.status === "replaying" ? "override" : "replay-task",
      reason: req.reason,
      target_type: "task",
      target_id: id,
      selection: {
        mode: req.mode,
        status: task.status,
        entity: task.entity,
        row_id: task.row_id,
        error_code: task.error_code,
      },
      result,
    });
  const outcome = decision!.outcome === "send" ? "sent" : "superseded";
  // commitAndSend claims the task before sending: of two replays of it racing (two operators, two
  // overrides, a retried request), only the first gets past the claim; the other records and sends
  // nothing. If the queue then refuses, it puts the status it had back.
  const result = await commitAndSend({ db: deps.db, queue: deps.queues[task.queue]! }, [decision!], opts, {
    commit: ([claimed]) => (claimed!.outcome === "skipped" ? [] : [audit({ outcome })]),
    revert: () => [audit({ outcome: "not sent: the queue refused it; nothing changed" })],
  });
  if (result.skipped.length)
    throw new ConflictError(
      "ALREADY_REPLAYING",
      `failed task ${id} changed while it was being replayed (another replay got there first)`,
    );
  if (result.error)
    throw new TransientError("QUEUE_UNAVAILABLE", `queue ${task.queue} refused the replay of ${id}: ${result.error}`);
  return { task: await getFailedTask(deps.db, id), outcome };
}
