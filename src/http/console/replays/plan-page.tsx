/** @jsxImportSource hono/jsx */
import { DEFAULT_REPLAY_RATE, type Plan } from "../../../../schemas/operator-api";
import type { SyncError } from "../../../../core/errors";
import { Layout } from "../layout";
import { ReasonField } from "../reason-field";
import { Refusal } from "../refusal";
import type { ConsoleSession } from "../session";
import { UtcTime } from "../utc-time";

function Breakdown(props: { counts: Record<string, number> }) {
  return (
    <>
      {Object.entries(props.counts).map(([k, n], i) => (
        <>
          {i ? ", " : ""}
          {k}: {n}
        </>
      ))}
    </>
  );
}

/** Step 2: the dry run's counts, then the confirmation (reason and rate) that starts the job. */
export function PlanPage(props: {
  session: ConsoleSession;
  plan: Plan;
  now: string;
  error?: SyncError;
  reason?: string;
  rate?: string;
}) {
  const p = props.plan;
  const expired = p.expires_at <= props.now;
  return (
    <Layout title={`Replay plan ${p.id}`} section="replays" session={props.session}>
      <p>
        <a href="/console/replays">← Replays</a>
      </p>
      <h2>
        Replay plan <code>{p.id}</code>
      </h2>
      <p class="muted">Step 2 of 3. A dry run: these tasks are frozen into the plan; nothing has been sent.</p>
      <Refusal error={props.error} />
      <dl class="facts counts" aria-label="What replaying this plan would do">
        <dt>Tasks selected</dt>
        <dd>{p.total}</dd>
        <dt>Would be sent</dt>
        <dd>{p.to_send}</dd>
        <dt>Already superseded (resolved without sending)</dt>
        <dd>{p.superseded}</dd>
        <dt>Would be skipped</dt>
        <dd>{p.skipped}</dd>
        <dt>Quarantined, left out</dt>
        <dd>{p.quarantined_excluded}</dd>
        <dt>Still replaying, left out</dt>
        <dd>{p.replaying_excluded}</dd>
        <dt>By entity</dt>
        <dd>
          <Breakdown counts={p.by_entity} />
        </dd>
        <dt>By error code</dt>
        <dd>
          <Breakdown counts={p.by_error} />
        </dd>
        <dt>Queue · mode</dt>
        <dd>
          {p.queue} · {p.mode}
          {p.override ? " · override (quarantined included)" : ""}
        </dd>
        <dt>Selection</dt>
        <dd>
          <code>{JSON.stringify(p.filter)}</code>
        </dd>
        <dt>Planned by</dt>
        <dd>
          {p.created_by} at <UtcTime at={p.created_at} />
        </dd>
        <dt>Expires</dt>
        <dd>
          <UtcTime at={p.expires_at} />
        </dd>
      </dl>
      {p.job_id ? (
        <p>
          This plan was executed by job <a href={`/console/replays/jobs/${p.job_id}`}>{p.job_id}</a>.
        </p>
      ) : expired ? (
        <p>
          This plan has expired: <a href="/console/replays/new">make a new one</a> to see what replaying does now.
        </p>
      ) : (
        <section aria-labelledby="confirm-replay" class="panel">
          <h3 id="confirm-replay">Step 3: confirm</h3>
          <form class="stack" method="post" action={`/console/replays/plans/${p.id}/execute`}>
            <input type="hidden" name="csrf" value={props.session.csrf} />
            <ReasonField id="replay-reason" value={props.reason} />
            <div class="field">
              <label for="replay-rate">Rate (events per second, 1 to 1000)</label>
              <span class="hint" id="replay-rate-hint">
                Replays share the work queue with live changes: keep it modest
              </span>
              <input
                id="replay-rate"
                name="rate_per_second"
                type="number"
                min="1"
                max="1000"
                step="1"
                value={props.rate ?? String(DEFAULT_REPLAY_RATE)}
                aria-describedby="replay-rate-hint"
              />
            </div>
            <button class="primary" type="submit">
              Replay {p.total} task(s)
            </button>
          </form>
        </section>
      )}
    </Layout>
  );
}
