/** @jsxImportSource hono/jsx */
import { SyncError } from "../../../core/errors";
import { Layout, type SectionId } from "./layout";
import type { JSX } from "hono/jsx/jsx-runtime";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppContext } from "../context";
import type { ConsoleSession } from "./session";

/**
 * What the operator is told in the page, with its stable code: a refusal (bad input, a move the
 * state does not allow, a missing row) or a dependency that is down (retryable: try again).
 * Anything else (a bug) is rethrown to the error edge.
 */
export function refusalOf(error: unknown): SyncError {
  if (error instanceof SyncError && (error.status < 500 || error.retryable)) return error;
  throw error;
}

/**
 * Read by screen readers as soon as the page loads (role="alert"). A refusal changed nothing (the
 * services decide before they write); a retryable failure only says to try again.
 */
export function Refusal(props: {
  error?: SyncError;
  read?: boolean;
  /** What to do about a retryable failure, where the action has more to say than "try again". */
  retryHint?: string;
}) {
  const e = props.error;
  if (!e) return null;
  const what = props.read ? "Cannot show this" : e.retryable ? "Not done" : "Refused";
  const then = e.retryable
    ? ` ${props.retryHint ?? "Try again in a moment."}`
    : props.read
      ? ""
      : " Nothing was changed.";
  return (
    <p class="error" role="alert">
      {what} ({e.code}): {e.message}.{then}
    </p>
  );
}

/** What a form just did, after its redirect (PRG): a status message, not an alert. */
export function Notice(props: { text?: string }) {
  if (!props.text) return null;
  return (
    <p class="notice" role="status">
      {props.text}
    </p>
  );
}

/** The HTTP status a refusal is shown with: the API's own. */
export function refusalStatus(error: SyncError): ContentfulStatusCode {
  return error.status as ContentfulStatusCode;
}

/** A page that cannot be shown (no such group, task, plan or job; a bad filter): why, and a way back. */
export function RefusedPage(props: {
  title: string;
  section: SectionId;
  session: ConsoleSession;
  error: SyncError;
  back: { href: string; label: string };
}) {
  return (
    <Layout title={props.title} section={props.section} session={props.session}>
      <h2>{props.title}</h2>
      <Refusal error={props.error} read />
      <p>
        <a href={props.back.href}>{props.back.label}</a>
      </p>
    </Layout>
  );
}

/**
 * Renders a page, or (the thing it shows does not exist, a filter is bad) a page saying why with
 * the refusal's own status. Errors that are not the operator's to fix go on to the error edge.
 */
export async function pageOrRefusal(
  c: AppContext,
  where: { title: string; section: SectionId; back: { href: string; label: string } },
  render: () => Promise<JSX.Element>,
  /** A page re-shown with a refusal carries the refusal's status. */
  status: ReturnType<typeof refusalStatus> | 200 = 200,
): Promise<Response> {
  try {
    return c.html(await render(), status);
  } catch (e) {
    const error = refusalOf(e);
    return c.html(<RefusedPage {...where} session={c.get("consoleSession")!} error={error} />, refusalStatus(error));
  }
}

/** A live fragment (data-live), or the refusal as a fragment: the polled element says why, never JSON. */
export async function fragmentOrRefusal(c: AppContext, render: () => Promise<JSX.Element>): Promise<Response> {
  try {
    return c.html(await render());
  } catch (e) {
    const error = refusalOf(e);
    return c.html(<Refusal error={error} read />, refusalStatus(error));
  }
}
