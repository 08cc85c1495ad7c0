/** @jsxImportSource hono/jsx */
import type { Job } from "../../../../schemas/operator-api";
import { Layout } from "../layout";
import { EmptyRow, RowsTable } from "../rows-table";
import type { ConsoleSession } from "../session";
import { UtcTime } from "../utc-time";
import { handled, JobStatusBadge } from "./job-status";

const JOB_COLUMNS = ["Job", "Status", "Queue", "Handled", "Reason · by", "Started"] as const;

export const JOBS_LIVE_SECONDS = 5;

/** The rows of the recent jobs table: also the live fragment's whole content. */
export function JobRows(props: { jobs: Job[] }) {
  if (!props.jobs.length) return <EmptyRow columns={JOB_COLUMNS.length} text="No replay job yet." />;
  return (
    <>
      {props.jobs.map((j) => (
        <tr>
          <td data-label="Job">
            <a href={`/console/replays/jobs/${j.id}`}>{j.id}</a>
          </td>
          <td data-label="Status">
            <JobStatusBadge status={j.status} />
          </td>
          <td data-label="Queue">{j.queue}</td>
          <td data-label="Handled" class="num">
            {handled(j)} of {j.total}
          </td>
          <td data-label="Reason · by" class="message">
            {j.reason} · {j.created_by}
          </td>
          <td data-label="Started">
            <UtcTime at={j.started_at} />
          </td>
        </tr>
      ))}
    </>
  );
}

export function JobsPage(props: { session: ConsoleSession; jobs: Job[] }) {
  return (
    <Layout title="Replays" section="replays" session={props.session}>
      <h2>Replays</h2>
      <p>
        <a class="button primary" href="/console/replays/new">
          New replay…
        </a>{" "}
        <span class="muted">select failed tasks, see a dry-run plan, then confirm it with a reason and a rate</span>
      </p>
      <h3 id="recent-jobs">Recent jobs</h3>
      <RowsTable
        label="Recent replay jobs"
        columns={JOB_COLUMNS}
        body={{
          id: "replay-jobs",
          "data-live": "/console/replays/live/jobs",
          "data-live-seconds": String(JOBS_LIVE_SECONDS),
        }}
      >
        <JobRows jobs={props.jobs} />
      </RowsTable>
    </Layout>
  );
}
