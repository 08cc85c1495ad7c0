/** @jsxImportSource hono/jsx */
import type { ErrorLogLine, LogPage, SyncLogLine } from "../../../../core/hubspot/session-log";
import type { SyncSession } from "../../../../core/hubspot/sessions";
import { Layout } from "../layout";
import type { ConsoleSession } from "../session";
import type { JSX } from "hono/jsx/jsx-runtime";
import { EmptyRow, RowsTable } from "../rows-table";
import { UtcTime } from "../utc-time";
import { SessionsTable } from "./page";
import type { SyncError } from "../../../../core/errors";
import { ReasonField } from "../reason-field";
import { Notice, Refusal } from "../refusal";

/** Log lines and errors shown per page of the session detail. */
export const LOG_LINES_PER_PAGE = 50;

type Stored<T> = T & { seq: number; timestamp: string };

/** /console/hubspot/sessions/:id: one sync session, its sync_logs and its error_logs, each paged. */
export function SessionDetailPage(props: {
  session: ConsoleSession;
  sync: SyncSession;
  logs: LogPage<Stored<SyncLogLine>>;
  errors: LogPage<Stored<ErrorLogLine & { resolved: boolean }>>;
  /** The cursors this page was opened with (for the "next page" links, each keeps the other's). */
  at: { logs_after?: number; errors_after?: number };
  /** After "Mark resolved" (PRG), or its refusal with what was typed. */
  notice?: string;
  error?: SyncError;
  reason?: string;
}) {
  const base = `/console/hubspot/sessions/${props.sync.id}`;
  const link = (q: { logs_after?: number; errors_after?: number }) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v) params.set(k, String(v));
    return params.size ? `${base}?${params}` : base;
  };
  return (
    <Layout title={`Sync session ${props.sync.session_id}`} section="hubspot" session={props.session}>
      <h2>
        Sync session <code>{props.sync.session_id}</code>
      </h2>
      <p>
        <a href="/console/hubspot">← HubSpot</a>
      </p>
      <SessionsTable sessions={[props.sync]} />
      <LinesSection
        id="session-logs"
        title="Log"
        intro="One line per page read, and one per contact refused for bad data (the contact waits in Failures)."
        columns={LOG_COLUMNS}
        continued={Boolean(props.at.logs_after)}
        empty={props.at.logs_after ? "No line after these." : "No log line yet."}
        first={props.at.logs_after ? link({ errors_after: props.at.errors_after }) : null}
        next={props.logs.next_after ? link({ ...props.at, logs_after: props.logs.next_after }) : null}
        rows={props.logs.items.map((l) => (
          <tr>
            <td data-label="At">
              <UtcTime at={l.timestamp} />
            </td>
            <td data-label="Page or contact" class="wrap">
              <code>{l.entity_id}</code>
            </td>
            <td data-label="Status">
              <span class={`badge state-${LOG_STATE[l.status]}`}>{l.status}</span>
            </td>
            <td data-label="Read">{cell(l.details.read)}</td>
            <td data-label="Queued">{cell(l.details.queued)}</td>
            <td data-label="Refused">{cell(l.details.refused)}</td>
            <td data-label="Details" class="wrap">
              {logDetail(l)}
            </td>
          </tr>
        ))}
      />
      <LinesSection
        id="session-errors"
        title="Errors"
        columns={ERROR_COLUMNS}
        continued={Boolean(props.at.errors_after)}
        empty={props.at.errors_after ? "No error after these." : "No error recorded for this session."}
        first={props.at.errors_after ? link({ logs_after: props.at.logs_after }) : null}
        next={props.errors.next_after ? link({ ...props.at, errors_after: props.errors.next_after }) : null}
        rows={props.errors.items.map((e) => (
          <tr>
            <td data-label="At">
              <UtcTime at={e.timestamp} />
            </td>
            <td data-label="Category">
              <span class="badge state-very-stale">{e.error_type}</span>
            </td>
            <td data-label="Message" class="wrap">
              {e.error_message}
            </td>
            <td data-label="Retried">{e.context.retryable === true ? "yes" : "no"}</td>
            <td data-label="Resolved">{e.resolved ? "yes" : "no"}</td>
          </tr>
        ))}
      />
      <Notice text={props.notice} />
      <Refusal error={props.error} />
      {props.errors.items.some((e) => !e.resolved) || props.error ? (
        <form method="post" action={`${base}/errors/resolve`} class="panel stack" aria-label="Mark errors resolved">
          <input type="hidden" name="csrf" value={props.session.csrf} />
          <p class="muted">Once they are dealt with: marks every error of this session resolved (seed 002's flag).</p>
          <ReasonField id="errors-reason" value={props.reason} />
          <button type="submit">Mark every error of this session resolved</button>
        </form>
      ) : null}
    </Layout>
  );
}

const LOG_COLUMNS = ["At", "Page or contact", "Status", "Read", "Queued", "Refused", "Details"] as const;
const ERROR_COLUMNS = ["At", "Category", "Message", "Retried", "Resolved"] as const;

const LOG_STATE: Record<SyncLogLine["status"], string> = { success: "fresh", warning: "warning", error: "very-stale" };

const cell = (v: unknown) => (typeof v === "number" ? String(v) : "—");

/** A page's next cursor, or a refused contact's reason. */
function logDetail(l: SyncLogLine): string {
  const d = l.details;
  if (typeof d.reason === "string") return `${d.code ?? ""}: ${d.reason}`;
  return d.cursor ? `next: ${String(d.cursor)}` : "last page";
}

/** One of the session's line tables (log, errors) in its panel, with the links to its first and next page. */
function LinesSection(props: {
  id: string;
  title: string;
  intro?: string;
  columns: readonly string[];
  continued: boolean;
  empty: string;
  first: string | null;
  next: string | null;
  rows: JSX.Element[];
}) {
  return (
    <section class="panel" aria-labelledby={props.id}>
      <h3 id={props.id}>
        {props.title} {props.continued ? "(continued)" : ""}
      </h3>
      {props.intro ? <p class="muted">{props.intro}</p> : null}
      <RowsTable label={props.title} columns={props.columns}>
        {props.rows.length ? props.rows : <EmptyRow columns={props.columns.length} text={props.empty} />}
      </RowsTable>
      {props.first || props.next ? (
        <nav class="pager" aria-label={`${props.title} pages`}>
          {props.first ? <a href={props.first}>← First</a> : null} {props.next ? <a href={props.next}>Next →</a> : null}
        </nav>
      ) : null}
    </section>
  );
}
