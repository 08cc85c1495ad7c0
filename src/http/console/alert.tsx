/** @jsxImportSource hono/jsx */
import { SyncError } from "../../../core/errors";

/** What a refused console action shows: the stable code and the message, never a JSON blob. */
export type Refusal = { code: string; message: string; status: number };

export function refusalOf(error: SyncError): Refusal {
  return { code: error.code, message: error.message, status: error.status };
}

export function Alert(props: { refusal?: Refusal; nothingChanged?: boolean }) {
  if (!props.refusal) return null;
  return (
    <p class="error" role="alert">
      <code>{props.refusal.code}</code>: {props.refusal.message}
      {props.nothingChanged ? ". Nothing was changed." : ""}
    </p>
  );
}
