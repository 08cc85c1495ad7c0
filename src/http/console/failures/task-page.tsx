/** @jsxImportSource hono/jsx */
import type { z } from "zod";
import { REPLAY_MODES, type taskDetailSchema } from "../../../../schemas/operator-api";
import type { SyncError } from "../../../../core/errors";
import { TASK_MOVES } from "../../../../core/ledger/task-status";
import { Layout } from "../layout";
import { EmptyRow, RowsTable } from "../rows-table";
import { ReasonField } from "../reason-field";
import { Notice, Refusal } from "../refusal";
import type { ConsoleSession } from "../session";
import { UtcTime } from "../utc-time";
import { TaskStatusBadge } from "./group-page";

const HISTORY_COLUMNS = ["At", "What", "By", "Job", "Error"] as const;

type TaskDetail = z.infer<typeof taskDetailSchema>;

/** What a replay of one task did, for the notice after the redirect. */
export const REPLAY_OUTCOME_TEXT = {
  sent: "Replayed: the event is back on the work queue; the consumer settles the task as it applies.",
  superseded: "Superseded: the replica already holds this version or a newer one, so nothing was sent.",
} as const;

/** Replay this one task now (as `ops replay <task>`): only from a status a replay may start from. */
function ReplayTaskForm(props: { session: ConsoleSession; task: TaskDetail["task"]; reason?: string }) {
  const { task } = props;
  if (!(TASK_MOVES.replay.from as readonly string[]).includes(task.status)) return null;
  const needsOverride = task.status !== "open";
  return (
    <section aria-labelledby="replay-task" class="panel">
      <h3 id="replay-task">Replay this task</h3>
      <form class="stack" method="post" action={`/console/failures/tasks/${task.id}/replay`}>
        <input type="hidden" name="csrf" value={props.session.csrf} />
        <ReasonField id="task-reason" value={props.reason} />
        <div class="field">
          <label for="task-mode">Replay</label>
          <select id="task-mode" name="mode">
            {REPLAY_MODES.map((m) => (
              <option value={m}>
                {m === "original" ? "original: the event as it failed" : "refresh: the current row"}
              </option>
            ))}
          </select>
        </div>
        {needsOverride ? (
          <div class="field check">
            <input id="task-override" name="override" type="checkbox" />
            <label for="task-override">
              Override: the task is {task.status} (recorded as an override in the audit trail)
            </label>
          </div>
        ) : null}
        <button type="submit">Replay now</button>
      </form>
    </section>
  );
}

/** One failed task: where it stands, the event it carries (escaped by JSX, never raw) and its history. */
export function TaskPage(props: {
  session: ConsoleSession;
  detail: TaskDetail;
  replayed?: keyof typeof REPLAY_OUTCOME_TEXT;
  error?: SyncError;
  reason?: string;
}) {
  const { task, history } = props.detail;
  return (
    <Layout title={`Failed task ${task.id}`} section="failures" session={props.session}>
      <p>
        {task.group_id ? (
          <a href={`/console/failures/groups/${task.group_id}`}>← Its failure group</a>
        ) : (
          <a href="/console/failures">← All failure groups</a>
        )}
      </p>
      <h2>
        Failed task <code>{task.id}</code>
      </h2>
      <Notice text={props.replayed ? REPLAY_OUTCOME_TEXT[props.replayed] : undefined} />
      <Refusal error={props.error} />
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          <TaskStatusBadge status={task.status} />
        </dd>
        <dt>Entity · row</dt>
        <dd>
          {task.entity ?? "unknown"} · {task.op ?? ""} {task.row_id ?? "unknown"}
        </dd>
        <dt>Queue</dt>
        <dd>{task.queue}</dd>
        <dt>Event id</dt>
        <dd>
          <code>{task.event_id}</code>
        </dd>
        <dt>Error</dt>
        <dd>
          <code>{task.error_code}</code> <span class="message">{task.error_message}</span>
        </dd>
        <dt>Retryable</dt>
        <dd>{task.retryable ? "yes" : "no"}</dd>
        <dt>Attempts · failures · replays</dt>
        <dd>
          {task.attempts} · {task.failure_count} · {task.replay_count}
        </dd>
        <dt>First · last failed</dt>
        <dd>
          <UtcTime at={task.first_failed_at} /> · <UtcTime at={task.last_failed_at} />
        </dd>
        <dt>Last replayed</dt>
        <dd>
          <UtcTime at={task.last_replayed_at} />
          {task.last_job_id ? (
            <>
              {" "}
              by job <a href={`/console/replays/jobs/${task.last_job_id}`}>{task.last_job_id}</a>
            </>
          ) : null}
        </dd>
        <dt>Resolved</dt>
        <dd>
          <UtcTime at={task.resolved_at} />
        </dd>
      </dl>

      <ReplayTaskForm session={props.session} task={task} reason={props.reason} />

      <section aria-labelledby="task-event">
        <h3 id="task-event">Event</h3>
        {task.event_redacted_at ? (
          <p class="muted">
            Payload retention removed the row image at <UtcTime at={task.event_redacted_at} />; the envelope stays.
          </p>
        ) : null}
        <pre class="event" tabindex={0} aria-label="The event as it failed, JSON">
          {JSON.stringify(task.event, null, 2)}
        </pre>
      </section>

      <section aria-labelledby="task-history">
        <h3 id="task-history">History (oldest first)</h3>
        <RowsTable label="History of this task" columns={HISTORY_COLUMNS}>
          {history.map((h) => (
            <tr>
              <td data-label="At">
                <UtcTime at={h.at} />
              </td>
              <td data-label="What">
                {h.kind}
                {h.mode ? ` (${h.mode})` : ""}
              </td>
              <td data-label="By">{h.actor ?? "the pipeline"}</td>
              <td data-label="Job">{h.job_id ? <a href={`/console/replays/jobs/${h.job_id}`}>{h.job_id}</a> : "—"}</td>
              <td data-label="Error">
                {h.error_code ? (
                  <>
                    <code>{h.error_code}</code> <span class="message">{h.error_message}</span>
                  </>
                ) : (
                  "—"
                )}
              </td>
            </tr>
          ))}
        </RowsTable>
      </section>
    </Layout>
  );
}
