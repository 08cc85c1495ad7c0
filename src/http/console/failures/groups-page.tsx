/** @jsxImportSource hono/jsx */
import { GROUP_STATUSES, type FailureGroup } from "../../../../schemas/operator-api";
import { ENTITY_NAMES } from "../../../../schemas/registry";
import { Layout } from "../layout";
import { EmptyRow, RowsTable } from "../rows-table";
import type { ConsoleSession } from "../session";
import { UtcTime } from "../utc-time";
import type { SyncError } from "../../../../core/errors";
import { Refusal } from "../refusal";

const GROUP_COLUMNS = [
  "Group (error code)",
  "Status",
  "Entity (queue)",
  "Message",
  "Open tasks",
  "Tasks / failures",
  "First seen",
  "Last seen",
] as const;

/** The groups table changes as failures arrive and settle: its body polls (data-live). */
export const GROUPS_LIVE_SECONDS = 10;

export interface GroupFilter {
  status?: string;
  entity?: string;
  /** The page: the previous page's nextCursor (none: the newest). */
  cursor?: string;
}

export function groupsQueryString(filter: GroupFilter): string {
  const q = new URLSearchParams();
  if (filter.status) q.set("status", filter.status);
  if (filter.entity) q.set("entity", filter.entity);
  if (filter.cursor) q.set("cursor", filter.cursor);
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** A group's status in words; the colour only repeats it. */
export function GroupStatusBadge(props: { status: string }) {
  return <span class={`badge group-${props.status}`}>{props.status}</span>;
}

/** The rows of the groups table: also the live fragment's whole content. */
export function GroupRows(props: { groups: FailureGroup[] }) {
  if (!props.groups.length)
    return (
      <EmptyRow
        columns={GROUP_COLUMNS.length}
        text="No failure group matches. Nothing is failing for this selection."
      />
    );
  return (
    <>
      {props.groups.map((g) => (
        <tr>
          <td data-label="Group">
            <a href={`/console/failures/groups/${g.id}`}>{g.error_code}</a>
            <span class="muted"> · {g.id}</span>
          </td>
          <td data-label="Status">
            <GroupStatusBadge status={g.status} />
          </td>
          <td data-label="Entity">
            {g.entity ?? "unknown"} <span class="muted">({g.queue})</span>
          </td>
          <td data-label="Message" class="message">
            {g.message_pattern}
          </td>
          <td data-label="Open tasks" class="num">
            {g.open_tasks}
          </td>
          <td data-label="Tasks / failures" class="num">
            {g.tasks} / {g.failures}
          </td>
          <td data-label="First seen">
            <UtcTime at={g.first_seen_at} />
          </td>
          <td data-label="Last seen">
            <UtcTime at={g.last_seen_at} />
          </td>
        </tr>
      ))}
    </>
  );
}

export function GroupsPage(props: {
  session: ConsoleSession;
  filter: GroupFilter;
  groups: FailureGroup[];
  /** The next, older page's cursor, if there is one. */
  nextCursor: string | null;
  error?: SyncError;
}) {
  const { filter } = props;
  return (
    <Layout title="Failures" section="failures" session={props.session}>
      <h2>Failure groups</h2>
      <p class="muted">
        Failed events grouped by cause (queue, entity, error code and message). Open a group to see its tasks, change
        its status or replay it.
      </p>
      <Refusal error={props.error} read />
      <form class="filters" method="get" action="/console/failures" aria-label="Filter failure groups">
        <label>
          Status
          <select name="status">
            <option value="">any</option>
            {GROUP_STATUSES.map((s) => (
              <option value={s} selected={filter.status === s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Entity
          <select name="entity">
            <option value="">any</option>
            {ENTITY_NAMES.map((e) => (
              <option value={e} selected={filter.entity === e}>
                {e}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      <RowsTable
        label="Failure groups"
        columns={GROUP_COLUMNS}
        body={{
          id: "failure-groups",
          "data-live": `/console/failures/live/groups${groupsQueryString(filter)}`,
          "data-live-seconds": String(GROUPS_LIVE_SECONDS),
        }}
      >
        <GroupRows groups={props.groups} />
      </RowsTable>
      <p class="pager">
        {filter.cursor ? (
          <a href={`/console/failures${groupsQueryString({ ...filter, cursor: undefined })}`}>Newest groups</a>
        ) : null}
        {props.nextCursor ? (
          <a href={`/console/failures${groupsQueryString({ ...filter, cursor: props.nextCursor })}`}>Older groups →</a>
        ) : null}
      </p>
    </Layout>
  );
}
