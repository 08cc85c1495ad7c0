/** @jsxImportSource hono/jsx */
import { QUEUES, ENTITY_NAMES } from "../../../../schemas/registry";
import { REPLAY_MODES } from "../../../../schemas/operator-api";
import type { SyncError } from "../../../../core/errors";
import { Layout } from "../layout";
import { ReasonField } from "../reason-field";
import { Refusal } from "../refusal";
import type { ConsoleSession } from "../session";
import type { PlanFormValues } from "./plan-form";

/** Statuses a plan may select; none means open ones (and quarantined ones with the override). */
const SELECTABLE = ["quarantined", "replaying"] as const;

function Choice(props: {
  name: string;
  label: string;
  hint?: string;
  any: string;
  options: readonly string[];
  value?: string;
}) {
  const id = `plan-${props.name}`;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.hint ? (
        <span class="hint" id={`${id}-hint`}>
          {props.hint}
        </span>
      ) : null}
      <select id={id} name={props.name} aria-describedby={props.hint ? `${id}-hint` : undefined}>
        <option value="">{props.any}</option>
        {props.options.map((o) => (
          <option value={o} selected={props.value === o}>
            {o}
          </option>
        ))}
      </select>
    </div>
  );
}

/** Step 1 of a replay: what to select. Submitting makes a dry-run plan; nothing is sent yet. */
export function NewReplayPage(props: { session: ConsoleSession; values: PlanFormValues; error?: SyncError }) {
  const v = props.values;
  return (
    <Layout title="New replay" section="replays" session={props.session}>
      <p>
        <a href="/console/replays">← Replays</a>
      </p>
      <h2>New replay: select the tasks</h2>
      <p class="muted">
        Step 1 of 3. The next page shows what replaying them would do (a dry run); nothing is sent until you confirm it.
      </p>
      <Refusal error={props.error} />
      <form class="panel stack" method="post" action="/console/replays/plans">
        <input type="hidden" name="csrf" value={props.session.csrf} />
        <div class="field">
          <label for="plan-group">Failure group</label>
          <span class="hint" id="plan-group-hint">
            Its id (16 hex digits), or leave empty and select by the fields below
          </span>
          <input id="plan-group" name="group" type="text" value={v.group ?? ""} aria-describedby="plan-group-hint" />
        </div>
        <Choice name="entity" label="Entity" any="any" options={ENTITY_NAMES} value={v.entity} />
        <Choice
          name="queue"
          label="Queue"
          any="any"
          options={[QUEUES.toD1, QUEUES.toSupabase]}
          value={v.queue}
          hint="A plan replays one work queue: choose one if the selection spans both"
        />
        <div class="field">
          <label for="plan-error-code">Error code</label>
          <input id="plan-error-code" name="error_code" type="text" value={v.error_code ?? ""} />
        </div>
        <Choice
          name="status"
          label="Task status"
          any="open (the default)"
          options={SELECTABLE}
          value={v.status}
          hint="Quarantined tasks failed again after repeated replays; replaying ones were sent and not settled yet"
        />
        <Choice
          name="mode"
          label="Replay"
          any="original (the default)"
          options={REPLAY_MODES.filter((m) => m !== "original")}
          value={v.mode}
          hint="original: the event as it failed. refresh: the current row, re-read from the authoritative store"
        />
        <div class="field check">
          <input id="plan-override" name="override" type="checkbox" checked={v.override} />
          <label for="plan-override">Include quarantined tasks (override, recorded in the audit trail)</label>
        </div>
        <ReasonField id="plan-reason" value={v.reason} optional />
        <button class="primary" type="submit">
          Make the dry-run plan
        </button>
      </form>
    </Layout>
  );
}
