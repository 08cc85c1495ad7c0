/** @jsxImportSource hono/jsx */
import type { z } from "zod";
import type { taskDetailSchema } from "../../../../schemas/operator-api";
import { Layout } from "../layout";
import type { ConsoleSession } from "../session";
import { UtcTime } from "../utc-time";
import { TaskStatusBadge } from "./group-page";

type TaskDetail = z.infer<typeof taskDetailSchema>;

/** One failed task: where it stands, the event it carries (escaped by JSX, never raw) and its history. */
export function TaskPage(props: { session: ConsoleSession; detail: TaskDetail }) {
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
        <table class="rows" aria-label="History of this task">
          <thead>
            <tr>
              <th scope="col">At</th>
              <th scope="col">What</th>
              <th scope="col">By</th>
              <th scope="col">Job</th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
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
                <td data-label="Job">
                  {h.job_id ? <a href={`/console/replays/jobs/${h.job_id}`}>{h.job_id}</a> : "—"}
                </td>
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
          </tbody>
        </table>
      </section>
    </Layout>
  );
}
