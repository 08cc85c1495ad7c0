/** @jsxImportSource hono/jsx */

/**
 * The reason every state-changing form asks for. Not `required` in HTML: the API's schema decides
 * (a blank or too short reason is refused by the server with its code, like a whitespace-only one).
 */
export function ReasonField(props: { id: string; value?: string; optional?: boolean }) {
  return (
    <div class="field">
      <label for={props.id}>Reason ({props.optional ? "optional" : "required"}, recorded in the audit trail)</label>
      <textarea id={props.id} name="reason" rows={2} aria-required={props.optional ? "false" : "true"} maxlength={500}>
        {props.value ?? ""}
      </textarea>
    </div>
  );
}
