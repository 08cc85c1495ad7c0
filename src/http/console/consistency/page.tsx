/** @jsxImportSource hono/jsx */
import type { BackfillState } from "../../../services/backfill";
import type { SyncError } from "../../../../core/errors";
import { Refusal } from "../refusal";
import { Layout } from "../layout";
import type { ConsoleSession } from "../session";
import { BackfillProgress, PROGRESS_SECONDS, progressUrl } from "./progress";
import type { IntegrityRunRecord, ReconcileRunRecord } from "../../../services/consistency-actions";
import { IntegrityResult, RecentRuns, RunResult } from "./results";
import { RegressionsPanel, type RestampSummary } from "./regressions";
import type { Regression } from "../../../../schemas/operator-api";

export interface ConsistencyView {
  session: ConsoleSession;
  /** Replicated entities, in registry order. */
  entities: string[];
  /** The runs the operator just started (after the redirect), if any. */
  selected: ReconcileRunRecord[];
  recent: ReconcileRunRecord[];
  integrity: IntegrityRunRecord | undefined;
  backfills: Array<{ entity: string; state: BackfillState | null }>;
  /** A refused action: shown with its code, the form keeps what was typed. */
  refusal?: SyncError;
  /** Which form the refusal belongs to, and what it held. */
  form?: { action: ConsistencyAction; fields: Record<string, string> };
  regressions: { open: Regression[]; restampable: string[]; done?: RestampSummary };
}

export type ConsistencyAction = "reconcile" | "integrity" | "backfill" | "regressions";

function CsrfField(props: { session: ConsoleSession }) {
  return <input type="hidden" name="csrf" value={props.session.csrf} />;
}

function EntitySelect(props: { id: string; entities: string[]; value?: string; all?: boolean }) {
  return (
    <select id={props.id} name="entity">
      {props.all ? (
        <option value="" selected={!props.value}>
          All replicated entities
        </option>
      ) : null}
      {props.entities.map((e) => (
        <option value={e} selected={props.value === e}>
          {e}
        </option>
      ))}
    </select>
  );
}

export function ConsistencyPage(v: ConsistencyView) {
  const f = v.form?.fields ?? {};
  // A store down (retryable) may have stopped a backfill after some pages; it resumes from there.
  const alertFor = (action: string) =>
    v.form?.action === action ? (
      <Refusal error={v.refusal} retryHint="Try again when it is back (a backfill resumes where it stopped)." />
    ) : null;
  return (
    <Layout title="Consistency" section="consistency" session={v.session}>
      <h2>Consistency</h2>
      <p class="muted">
        The same actions as <code>npm run ops -- reconcile | integrity | backfill</code> and the admin API, recorded in
        the audit trail as <strong>{v.session.operator}</strong>.
      </p>
      {v.form ? null : <Refusal error={v.refusal} read />}

      <section class="panel" id="reconcile" aria-labelledby="reconcile-title">
        <h3 id="reconcile-title">Reconcile</h3>
        {alertFor("reconcile")}
        <form method="post" action="/console/consistency/reconcile" class="action-form">
          <CsrfField session={v.session} />
          <label for="reconcile-entity">Entity</label>
          <EntitySelect id="reconcile-entity" entities={v.entities} value={f.entity} all />
          <fieldset>
            <legend>Mode</legend>
            <label>
              <input type="radio" name="mode" value="dry-run" checked={f.mode !== "repair"} /> Dry run: report the
              differences, change nothing
            </label>
            <label>
              <input type="radio" name="mode" value="repair" checked={f.mode === "repair"} /> Repair: make the replica
              equal to the source
            </label>
          </fieldset>
          <label for="reconcile-reason">Reason (optional, kept in the audit line)</label>
          <input id="reconcile-reason" name="reason" type="text" maxlength={500} value={f.reason ?? ""} />
          <details open={Boolean(f.after || f.until)}>
            <summary>Limit to an id range</summary>
            <label for="reconcile-after">After id (exclusive)</label>
            <input id="reconcile-after" name="after" type="text" value={f.after ?? ""} />
            <label for="reconcile-until">Up to id (inclusive)</label>
            <input id="reconcile-until" name="until" type="text" value={f.until ?? ""} />
          </details>
          <button class="primary" type="submit">
            Run reconciliation
          </button>
        </form>
        {v.selected.length ? (
          <div aria-labelledby="result-title" class="results">
            <h4 id="result-title">Result</h4>
            {v.selected.map((run) => (
              <RunResult run={run} />
            ))}
          </div>
        ) : null}
        <RecentRuns runs={v.recent} />
      </section>

      <section class="panel" id="integrity" aria-labelledby="integrity-title">
        <h3 id="integrity-title">Integrity check</h3>
        {alertFor("integrity")}
        <p class="muted">
          Orphaned emails, duplicate prospects, impossible email states, non-UTC timestamps, ids that are not UUIDs, in
          both stores. Changes no data.
        </p>
        <form method="post" action="/console/consistency/integrity" class="action-form">
          <CsrfField session={v.session} />
          <button class="primary" type="submit">
            Run integrity check
          </button>
        </form>
        <IntegrityResult run={v.integrity} />
      </section>

      <section class="panel" id="backfill" aria-labelledby="backfill-title">
        <h3 id="backfill-title">Backfill (manual resync)</h3>
        {alertFor("backfill")}
        <p class="muted">
          Copies an entity's rows from its authoritative store into the replica in key order, through the consumers'
          apply path (a newer replica row is never overwritten). One step copies up to 5,000 rows; run it again to
          resume where it stopped.
        </p>
        <form method="post" action="/console/consistency/backfill" class="action-form">
          <CsrfField session={v.session} />
          <label for="backfill-entity">Entity</label>
          <EntitySelect id="backfill-entity" entities={v.entities} value={f.entity} />
          <label class="check">
            <input type="checkbox" name="restart" value="on" checked={f.restart === "on"} /> Start over from the first
            row (otherwise resume)
          </label>
          <label for="backfill-reason">Reason (optional, kept in the audit line)</label>
          <input id="backfill-reason" name="reason" type="text" maxlength={500} value={f.reason ?? ""} />
          <button class="primary" type="submit">
            Start or resume backfill
          </button>
        </form>
        <ul class="backfills" aria-label="Backfill progress">
          {v.backfills.map((b) => (
            <li data-live={progressUrl(b.entity)} data-live-seconds={String(PROGRESS_SECONDS)}>
              <BackfillProgress entity={b.entity} state={b.state} />
            </li>
          ))}
        </ul>
      </section>

      <RegressionsPanel session={v.session} {...v.regressions} alert={alertFor("regressions")} />
    </Layout>
  );
}
