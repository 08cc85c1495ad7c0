/** @jsxImportSource hono/jsx */
import type { Job } from "../../../../schemas/operator-api";
import type { SyncError } from "../../../../core/errors";
import { Layout } from "../layout";
import { ReasonField } from "../reason-field";
import { Notice, Refusal } from "../refusal";
import type { ConsoleSession } from "../session";
import { UtcTime } from "../utc-time";
import { handled, JobStatusBadge, jobStillMoving } from "./job-status";

export const JOB_LIVE_SECONDS = 2;

/** Where the job stands: also the live fragment's whole content. */
export function JobProgress(props: { job: Job; failedAgain: number }) {
  const j = props.job;
  const done = handled(j);
  return (
    <>
      <p>
        <JobStatusBadge status={j.status} />{" "}
        <label for="job-progress-bar">
          {done} of {j.total} handled
        </label>{" "}
        <progress id="job-progress-bar" max={String(Math.max(j.total, 1))} value={String(done)}>
          {done} of {j.total}
        </progress>
      </p>
      <dl class="facts counts" aria-label="Job counts">
        <dt>Sent</dt>
        <dd>{j.sent}</dd>
        <dt>Superseded (not sent)</dt>
        <dd>{j.superseded}</dd>
        <dt>Skipped</dt>
        <dd>{j.skipped}</dd>
        <dt>Remaining</dt>
        <dd>{j.remaining}</dd>
        <dt>Applied (resolved)</dt>
        <dd>{j.tasks?.resolved ?? 0}</dd>
        <dt>Sent, not settled yet</dt>
        <dd>{j.tasks?.replaying ?? 0}</dd>
        <dt>Failed again</dt>
        <dd>{props.failedAgain}</dd>
      </dl>
      {j.last_error ? <p class="error">The work queue refused a chunk: {j.last_error} (retrying).</p> : null}
      <p class="muted">
        As of <UtcTime at={new Date().toISOString()} />
        {jobStillMoving(j) ? ` (updates every ${JOB_LIVE_SECONDS} s)` : ""}
      </p>
    </>
  );
}

export function JobPage(props: {
  session: ConsoleSession;
  job: Job;
  failedAgain: number;
  cancelled?: boolean;
  error?: SyncError;
  reason?: string;
}) {
  const j = props.job;
  const live = jobStillMoving(j)
    ? { "data-live": `/console/replays/jobs/${j.id}/progress`, "data-live-seconds": String(JOB_LIVE_SECONDS) }
    : {};
  return (
    <Layout title={`Replay job ${j.id}`} section="replays" session={props.session}>
      <p>
        <a href="/console/replays">← Replays</a>
      </p>
      <h2>
        Replay job <code>{j.id}</code>
      </h2>
      <Notice
        text={props.cancelled ? "The job is cancelled: what was sent stays sent, the rest is untouched." : undefined}
      />
      <Refusal error={props.error} />
      <section id="job-progress" aria-label="Progress" class="panel" {...live}>
        <JobProgress job={j} failedAgain={props.failedAgain} />
      </section>
      <dl class="facts">
        <dt>Plan</dt>
        <dd>
          <a href={`/console/replays/plans/${j.plan_id}`}>{j.plan_id}</a>
        </dd>
        <dt>Queue · mode</dt>
        <dd>
          {j.queue} · {j.mode}
          {j.override ? " · override" : ""}
        </dd>
        <dt>Rate</dt>
        <dd>up to {j.rate_per_second} per second</dd>
        <dt>Reason</dt>
        <dd>{j.reason}</dd>
        <dt>Started by</dt>
        <dd>
          {j.created_by} at <UtcTime at={j.started_at} />
        </dd>
        <dt>Finished</dt>
        <dd>
          <UtcTime at={j.finished_at} />
          {j.cancelled_by ? ` (cancelled by ${j.cancelled_by})` : ""}
        </dd>
      </dl>
      {props.failedAgain ? (
        <p>
          <a href={`/console/failures?status=open`}>See the failure groups</a> for the tasks that failed again.
        </p>
      ) : null}
      {j.status === "running" ? (
        <section aria-labelledby="cancel-job" class="panel">
          <h3 id="cancel-job">Cancel</h3>
          <form class="stack" method="post" action={`/console/replays/jobs/${j.id}/cancel`}>
            <input type="hidden" name="csrf" value={props.session.csrf} />
            <ReasonField id="cancel-reason" value={props.reason} />
            <button type="submit">Cancel the job</button>
          </form>
        </section>
      ) : null}
    </Layout>
  );
}
