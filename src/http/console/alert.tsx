/** @jsxImportSource hono/jsx */
import { SyncError } from "../../../core/errors";

/** What a refused console action shows: the stable code and the message, never a JSON blob. */
export type Refusal = { code: string; message: string; status: number };

export function refusalOf(error: SyncError): Refusal {
  return { code: error.code, message: error.message, status: error.status };
}

/**
 * `action`: the refusal answers a form. A refused request (4xx) changed nothing; a store that is
 * down (5xx) may have stopped a backfill after some pages, which it resumes from.
 */
export function Alert(props: { refusal?: Refusal; action?: boolean }) {
  if (!props.refusal) return null;
  const after = !props.action
    ? ""
    : props.refusal.status < 500
      ? ". Nothing was changed."
      : ". Try again when it is back (a backfill resumes where it stopped).";
  return (
    <p class="error" role="alert">
      <code>{props.refusal.code}</code>: {props.refusal.message}
      {after}
    </p>
  );
}
