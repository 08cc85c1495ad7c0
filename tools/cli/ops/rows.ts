import type { FailedTask, FailureGroup, Job } from "../../../schemas/operator-api";
import { truncate } from "./format";

/** One table row per record kind, so every command shows a task, group or job the same way. */

export const taskRow = (t: FailedTask) => ({
  id: t.id,
  queue: t.queue,
  entity: t.entity,
  row_id: t.row_id,
  error_code: t.error_code,
  status: t.status,
  attempts: t.attempts,
  failures: t.failure_count,
  replays: t.replay_count,
  last_failed_at: t.last_failed_at,
  group: t.group_id,
});

export const groupRow = (g: FailureGroup) => ({
  id: g.id,
  status: g.status,
  queue: g.queue,
  entity: g.entity,
  error_code: g.error_code,
  "open tasks": g.open_tasks,
  tasks: g.tasks,
  failures: g.failures,
  last_seen_at: g.last_seen_at,
  message: truncate(g.message_pattern, 50),
});

export const jobRow = (j: Job) => ({
  id: j.id,
  status: j.status,
  queue: j.queue,
  mode: j.mode,
  total: j.total,
  sent: j.sent,
  superseded: j.superseded,
  skipped: j.skipped,
  remaining: j.remaining,
  "rate/s": j.rate_per_second,
  by: j.created_by,
  created_at: j.created_at,
});
