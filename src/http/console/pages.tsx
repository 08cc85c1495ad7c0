/** @jsxImportSource hono/jsx */
import type { Child } from "hono/jsx";
import {
  behindSeconds,
  duration,
  FRESHNESS_LABEL,
  FRESHNESS_SECONDS,
  freshnessOf,
  type EntityStatus,
  type SyncStatus,
} from "./freshness";
import { Layout } from "./layout";
import type { ConsoleSession } from "./session";

/**
 * How often console.js fetches the overview's status region again (data-live). Polling a fragment
 * instead of reloading the page keeps the scroll position and focus, and when a fetch fails the
 * last numbers stay, marked out of date, instead of an error page.
 */
export const REFRESH_SECONDS = 15;

/** `access`: the email Cloudflare Access proves on this request, offered as a one-click sign-in. */
export function LoginPage(props: { error?: string; operator?: string; access?: string }) {
  return (
    <Layout title="Sign in">
      {props.error ? (
        <p class="error login-error" role="alert">
          {props.error}
        </p>
      ) : null}
      {props.access ? (
        <form class="login" method="post" action="/console/login">
          <h2>Signed in to Cloudflare Access</h2>
          <input type="hidden" name="via" value="access" />
          <button class="primary" type="submit">
            Continue as {props.access}
          </button>
        </form>
      ) : null}
      <form class="login" method="post" action="/console/login">
        <h2>{props.access ? "Or sign in with a token" : "Sign in"}</h2>
        <label for="token">Token</label>
        <span class="hint" id="token-hint">
          Your operator token (sds_op_…) or the shared admin token
        </span>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="current-password"
          aria-describedby="token-hint"
          required
        />
        <label for="operator">Your name</label>
        <span class="hint" id="operator-hint">
          Needed with the shared admin token; an operator token already names you
        </span>
        <input
          id="operator"
          name="operator"
          type="text"
          autocomplete="username"
          aria-describedby="operator-hint"
          value={props.operator ?? ""}
        />
        <button class="primary" type="submit">
          Sign in
        </button>
      </form>
    </Layout>
  );
}

function EntityCard(props: { entity: EntityStatus; status: SyncStatus; now: number }) {
  const e = props.entity;
  const state = freshnessOf(e, props.status, props.now);
  const r = e.lastReconciliation;
  // An entity owned outside (HubSpot) has no capture backlog of ours: its sync sessions say how far it got.
  const backlog =
    "changeLog" in e.backlog
      ? (e.backlog.changeLog ?? "unknown")
      : "outboxUnpublished" in e.backlog
        ? e.backlog.outboxUnpublished
        : "—";
  const backlogWhere =
    "changeLog" in e.backlog ? "change log" : "outboxUnpublished" in e.backlog ? "outbox" : `${e.authority} sync`;
  const differences = r ? r.missing + r.extra + r.altered : 0;
  return (
    <li class={`card state-${state}`} aria-labelledby={`entity-${e.entity}`}>
      <h2 id={`entity-${e.entity}`}>
        {e.entity}
        <span class={`badge state-${state}`}>{FRESHNESS_LABEL[state]}</span>
      </h2>
      <p class="direction">{e.replica ? `${e.authority} → ${e.replica}` : `${e.authority} only (not replicated)`}</p>
      <dl>
        <dt>Rows in Supabase</dt>
        <dd>{e.rows.supabase ?? "unknown"}</dd>
        <dt>Rows in D1</dt>
        <dd>{e.rows.d1 ?? "not held"}</dd>
        <dt>Behind by</dt>
        <dd>{duration(behindSeconds(e, props.status, props.now))}</dd>
        <dt>Last event lag</dt>
        <dd>{duration(e.lagSeconds)}</dd>
        <dt>Backlog ({backlogWhere})</dt>
        <dd>{backlog}</dd>
        <dt>Open failed tasks</dt>
        <dd>{e.openFailedTasks}</dd>
        <dt>Last reconciliation</dt>
        <dd>
          {r ? (
            <>
              <time datetime={r.finished_at}>{r.finished_at}</time>: {r.status},{" "}
              {differences ? `${differences} difference(s), ${r.repaired} repaired` : "no differences"}
            </>
          ) : (
            "never"
          )}
        </dd>
      </dl>
      {e.reasons.length ? (
        <ul class="reasons">
          {e.reasons.map((reason) => (
            <li>{reason}</li>
          ))}
        </ul>
      ) : null}
    </li>
  );
}

export function OverviewPage(props: { status: SyncStatus; session: ConsoleSession; now: number }) {
  return (
    <Layout title="Overview" section="overview" session={props.session}>
      <div class="live-region" data-live="/console/live/overview" data-live-seconds={String(REFRESH_SECONDS)}>
        <OverviewStatus status={props.status} now={props.now} />
      </div>
      <p class="muted">
        Fresh: less than {FRESHNESS_SECONDS.stale / 60} min behind; stale: up to {FRESHNESS_SECONDS.veryStale / 60} min;
        very stale: more. Warning: the entity has problems listed on its card; error: Supabase cannot be reached.
      </p>
    </Layout>
  );
}

/** Everything the overview reads from the sync status: the page's data-live fragment. */
export function OverviewStatus(props: { status: SyncStatus; now: number }) {
  const { status } = props;
  const asOf = new Date(props.now).toISOString();
  const sweep = status.sweeps.changeLog;
  return (
    <>
      <section class="summary" aria-label="Pipeline">
        <p>
          Overall:{" "}
          <span class={`badge state-${status.healthy ? "fresh" : "warning"}`}>
            {status.healthy ? "Healthy" : "Needs attention"}
          </span>
        </p>
        <p>
          Data{" "}
          <time datetime={asOf} data-age="">
            updated at {asOf.replace("T", " ").slice(0, 19)} UTC
          </time>{" "}
          <span class="muted">(refreshes every {REFRESH_SECONDS} s)</span>
        </p>
        <p>
          Change-log sweep: {sweep.lastRunAt ? `${duration(sweep.ageSeconds)} ago` : "never run"} · outbox unpublished:{" "}
          {status.sweeps.outbox.unpublished}
        </p>
      </section>
      {status.reasons.length ? (
        <ul class="health-reasons" aria-label="Why the pipeline needs attention">
          {status.reasons.map((reason) => (
            <li>{reason}</li>
          ))}
        </ul>
      ) : null}
      <section aria-label="Circuits" class="summary">
        <p>Circuits:</p>
        <ul class="circuits">
          {Object.entries(status.circuits).map(([name, state]) => (
            <li>
              <span class={`badge state-${state === "closed" ? "fresh" : "warning"}`}>
                {name}: {state}
              </span>
            </li>
          ))}
        </ul>
      </section>
      <ul class="cards" aria-label="Entities">
        {status.entities.map((entity) => (
          <EntityCard entity={entity} status={status} now={props.now} />
        ))}
      </ul>
    </>
  );
}
