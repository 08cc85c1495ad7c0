/** @jsxImportSource hono/jsx */
import type { FailedTask, FailureGroup, GroupAction } from "../../../../schemas/operator-api";
import type { SyncError } from "../../../../core/errors";
import { Layout } from "../layout";
import { EmptyRow, RowsTable } from "../rows-table";
import { ReasonField } from "../reason-field";
import { Notice, Refusal } from "../refusal";
import type { ConsoleSession } from "../session";
import { UtcTime } from "../utc-time";
import { ACTION_LABEL, groupActionsFrom } from "./group-moves";
import { GroupStatusBadge } from "./groups-page";

const TASK_COLUMNS = ["Task", "Status", "Row", "Error code", "Failures", "Replays", "Last failed"] as const;

export const GROUP_LIVE_SECONDS = 5;
export const TASKS_PER_PAGE = 25;

/** The group's state and counts: also the live fragment's whole content. */
export function GroupSummary(props: { group: FailureGroup }) {
  const g = props.group;
  return (
    <dl class="facts">
      <dt>Status</dt>
      <dd>
        <GroupStatusBadge status={g.status} />
        {g.status_changed_at ? (
          <span class="muted">
            {" "}
            since <UtcTime at={g.status_changed_at} /> by {g.status_changed_by ?? "the pipeline"}
            {g.status_reason ? `: ${g.status_reason}` : ""}
          </span>
        ) : null}
      </dd>
      <dt>Entity</dt>
      <dd>{g.entity ?? "unknown"}</dd>
      <dt>Queue</dt>
      <dd>{g.queue}</dd>
      <dt>Error code</dt>
      <dd>
        <code>{g.error_code}</code>
      </dd>
      <dt>Message</dt>
      <dd class="message">{g.message_pattern}</dd>
      <dt>Open tasks</dt>
      <dd>{g.open_tasks}</dd>
      <dt>Tasks</dt>
      <dd>{g.tasks}</dd>
      <dt>Failures</dt>
      <dd>{g.failures}</dd>
      <dt>First seen</dt>
      <dd>
        <UtcTime at={g.first_seen_at} />
      </dd>
      <dt>Last seen</dt>
      <dd>
        <UtcTime at={g.last_seen_at} />
      </dd>
    </dl>
  );
}

export function TaskStatusBadge(props: { status: string }) {
  return <span class={`badge task-${props.status}`}>{props.status}</span>;
}

function TaskRows(props: { tasks: FailedTask[] }) {
  if (!props.tasks.length) return <EmptyRow columns={TASK_COLUMNS.length} text="No tasks." />;
  return (
    <>
      {props.tasks.map((t) => (
        <tr>
          <td data-label="Task">
            <a href={`/console/failures/tasks/${t.id}`}>{t.id}</a>
          </td>
          <td data-label="Status">
            <TaskStatusBadge status={t.status} />
          </td>
          <td data-label="Row">
            {t.op ?? ""} {t.row_id ?? "unknown"}
          </td>
          <td data-label="Error code">
            <code>{t.error_code}</code>
          </td>
          <td data-label="Failures" class="num">
            {t.failure_count}
          </td>
          <td data-label="Replays" class="num">
            {t.replay_count}
          </td>
          <td data-label="Last failed">
            <UtcTime at={t.last_failed_at} />
          </td>
        </tr>
      ))}
    </>
  );
}

export function GroupPage(props: {
  session: ConsoleSession;
  group: FailureGroup;
  tasks: FailedTask[];
  cursor?: string;
  nextCursor: string | null;
  changed?: string;
  error?: SyncError;
  reason?: string;
}) {
  const g = props.group;
  const actions: GroupAction[] = groupActionsFrom(g.status);
  const base = `/console/failures/groups/${g.id}`;
  return (
    <Layout title={`Failure group ${g.id}`} section="failures" session={props.session}>
      <p>
        <a href="/console/failures">← All failure groups</a>
      </p>
      <h2>
        Failure group <code>{g.id}</code>
      </h2>
      <Notice text={props.changed ? `The group is now ${props.changed}.` : undefined} />
      <Refusal error={props.error} />
      <div id="group-summary" data-live={`${base}/live`} data-live-seconds={String(GROUP_LIVE_SECONDS)}>
        <GroupSummary group={g} />
      </div>

      <section aria-labelledby="change-status" class="panel">
        <h3 id="change-status">Change status</h3>
        <form class="stack" method="post" action={`${base}/status`}>
          <input type="hidden" name="csrf" value={props.session.csrf} />
          <ReasonField id="group-reason" value={props.reason} />
          <div class="actions">
            {actions.map((action) => (
              <button type="submit" name="action" value={action}>
                {ACTION_LABEL[action]}
              </button>
            ))}
          </div>
        </form>
        <p>
          <a class="button" href={`/console/replays/new?group=${g.id}`}>
            Replay…
          </a>{" "}
          <span class="muted">plan a replay of this group's open tasks (a dry run first)</span>
        </p>
      </section>

      <section aria-labelledby="group-tasks">
        <h3 id="group-tasks">Tasks {props.cursor ? "(older)" : "(newest first)"}</h3>
        <RowsTable label="Tasks of this group" columns={TASK_COLUMNS}>
          <TaskRows tasks={props.tasks} />
        </RowsTable>
        <nav class="pager" aria-label="Task pages">
          {props.cursor ? <a href={base}>Newest tasks</a> : null}
          {props.nextCursor ? <a href={`${base}?cursor=${props.nextCursor}`}>Older tasks →</a> : null}
        </nav>
      </section>
    </Layout>
  );
}
