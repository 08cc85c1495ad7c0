/** @jsxImportSource hono/jsx */
import type { SyncError } from "../../../../core/errors";
import type { Connection } from "../../../../core/hubspot/connections";
import type { SyncSession } from "../../../../core/hubspot/sessions";
import { Layout } from "../layout";
import { ReasonField } from "../reason-field";
import { Notice, Refusal } from "../refusal";
import type { ConsoleSession } from "../session";
import { UtcTime } from "../utc-time";
import { EventFeed } from "./event-feed";
import type { RecordedSyncEvent } from "../../../../schemas/hubspot/sync-event";

export const SESSIONS_URL = "/console/hubspot/live/sessions";
/** How often an open page asks for the sessions again (a full sync moves every few seconds). */
export const SESSIONS_SECONDS = 5;

/** The connection's state in words (with its colour class); the words are always there. */
export function describeConnection(c: Connection | null): { label: string; state: string; detail: string } {
  if (!c) return { label: "Not connected", state: "no-replica", detail: "No HubSpot portal has been connected yet." };
  const portal = `Portal ${c.portal_id}`;
  switch (c.status) {
    case "connected":
      return {
        label: "Connected",
        state: "fresh",
        detail: `${portal} is connected; its tokens are stored encrypted and renewed before they expire.`,
      };
    case "pending":
      return { label: "Pending", state: "stale", detail: `${portal}: an authorization started and has not finished.` };
    case "error":
      return {
        label: "Error",
        state: "very-stale",
        detail: `${portal}: ${c.last_error ?? "HubSpot refused our tokens"}. Connect again to repair it.`,
      };
    case "disconnected":
      return {
        label: "Disconnected",
        state: "no-replica",
        detail: `${portal} was disconnected; its tokens were erased.`,
      };
  }
}

export function HubSpotPage(props: {
  session: ConsoleSession;
  connection: Connection | null;
  connections: Connection[];
  sessions: SyncSession[];
  /** The newest recorded events and the stream's head (where the page's EventSource starts). */
  events: { head: number; items: RecordedSyncEvent[] };
  notice?: string;
  /** A refused action (re-rendered with what was typed), or a store that could not be read. */
  error?: SyncError;
  reason?: string;
}) {
  const c = props.connection;
  const s = describeConnection(c);
  const others = props.connections.filter((x) => x.id !== c?.id && x.status !== "disconnected");
  return (
    <Layout title="HubSpot" section="hubspot" session={props.session}>
      <h2>HubSpot</h2>
      <Notice text={props.notice} />
      <Refusal error={props.error} />
      <section class="panel" aria-labelledby="hubspot-connection">
        <h3 id="hubspot-connection">Connection</h3>
        <p class="hubspot-status">
          <span class={`badge state-${s.state}`}>{s.label}</span> {s.detail}
        </p>
        {c ? (
          <dl class="hubspot-facts">
            <dt>Portal</dt>
            <dd>{String(c.portal_id)}</dd>
            <dt>Scopes</dt>
            <dd>{c.scopes.length ? c.scopes.join(", ") : "—"}</dd>
            <dt>Access token expires</dt>
            <dd>
              <UtcTime at={c.expires_at} />
            </dd>
            <dt>Changed</dt>
            <dd>
              <UtcTime at={c.updated_at} />
            </dd>
          </dl>
        ) : null}
        {others.length ? (
          <p class="muted">Also connected: portal(s) {others.map((x) => String(x.portal_id)).join(", ")}.</p>
        ) : null}
        <p>
          <a class="button primary" href="/console/hubspot/connect">
            {c && c.status !== "disconnected" ? "Connect again" : "Connect HubSpot"}
          </a>{" "}
          <span class="muted">Opens HubSpot to approve read access to contacts, then comes back here.</span>
        </p>
        {c && c.status !== "disconnected" ? (
          <form method="post" action="/console/hubspot/disconnect" class="action-form" aria-labelledby="disconnect">
            <h4 id="disconnect">Disconnect</h4>
            <input type="hidden" name="csrf" value={props.session.csrf} />
            <input type="hidden" name="portal_id" value={String(c.portal_id)} />
            <ReasonField id="disconnect-reason" value={props.reason} />
            <button type="submit">Disconnect portal {String(c.portal_id)}</button>
            <span class="muted">Erases its tokens; syncing stops until it is connected again.</span>
          </form>
        ) : null}
      </section>
      <section class="panel" aria-labelledby="hubspot-sessions">
        <h3 id="hubspot-sessions">Sync sessions</h3>
        <p class="muted">
          Full and incremental syncs, newest first, with their progress. The cron runs an incremental sync every few
          minutes; start one now, or a full sync (every contact, again), here.
        </p>
        <form method="post" action="/console/hubspot/sync" class="sync-form">
          <input type="hidden" name="csrf" value={props.session.csrf} />
          <button type="submit" name="full" value="false" class="primary">
            Sync now
          </button>{" "}
          <button type="submit" name="full" value="true">
            Full sync
          </button>
        </form>
        <div data-live={SESSIONS_URL} data-live-seconds={String(SESSIONS_SECONDS)}>
          <SessionsTable sessions={props.sessions} />
        </div>
      </section>
      <EventFeed head={props.events.head} items={props.events.items} />
    </Layout>
  );
}

const STATUS_WORDS: Record<SyncSession["status"], string> = {
  pending: "Pending",
  running: "Running",
  completed: "Completed",
  failed: "Failed",
};
const STATUS_STATE: Record<SyncSession["status"], string> = {
  pending: "stale",
  running: "warning",
  completed: "fresh",
  failed: "very-stale",
};

/** The sessions table: the inner HTML of the data-live element, also served alone. */
export function SessionsTable(props: { sessions: SyncSession[] }) {
  if (props.sessions.length === 0) return <p>No sync has run yet.</p>;
  return (
    <div class="table-wrap">
      <table>
        <caption class="muted">
          <time data-age datetime={new Date().toISOString()}>
            just read
          </time>
        </caption>
        <thead>
          <tr>
            <th scope="col">Started</th>
            <th scope="col">Type</th>
            <th scope="col">Status</th>
            <th scope="col">Contacts</th>
            <th scope="col">Archived</th>
            <th scope="col">Errors</th>
            <th scope="col">Ended</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {props.sessions.map((s) => (
            <tr>
              <td>
                <UtcTime at={s.start_time ?? s.created_at} />
              </td>
              <td>{s.type}</td>
              <td>
                <span class={`badge state-${STATUS_STATE[s.status]}`}>{STATUS_WORDS[s.status]}</span>
              </td>
              <td>{String(s.records_count)}</td>
              <td>{String(s.archived_count)}</td>
              <td>{String(s.error_count)}</td>
              <td>
                <UtcTime at={s.end_time} />
              </td>
              <td class="wrap">
                <a href={`/console/hubspot/sessions/${s.id}`} title="Its log and errors">
                  <code>{s.session_id}</code>
                </a>
                {s.status === "failed" ? ` ${s.error ?? "failed"}` : ""}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
