/** @jsxImportSource hono/jsx */
import type { Regression } from "../../../../schemas/operator-api";
import { ReasonField } from "../reason-field";
import { Notice } from "../refusal";
import type { ConsoleSession } from "../session";
import { TableHead } from "../table-head";
import { UtcTime } from "../utc-time";

/** How many open regressions the panel lists (the count above it is exact). */
export const REGRESSIONS_SHOWN = 50;

/** What a re-stamp did, carried through the redirect (PRG) as `entity:restamped:unchanged`. */
export interface RestampSummary {
  entity: string;
  restamped: number;
  unchanged: number;
}

/**
 * Version regressions reconciliation found (a point-in-time restore of Supabase, typically): rows
 * whose every later change the replica ignores as stale. Listed, then re-stamped at the source on
 * the operator's word, exactly as `npm run ops -- resolve-regression` does.
 */
export function RegressionsPanel(props: {
  session: ConsoleSession;
  open: Regression[];
  /** Entities with an open regression whose source can be re-stamped (Supabase-authoritative). */
  restampable: string[];
  done?: RestampSummary;
  alert: unknown;
}) {
  const { open } = props;
  return (
    <section class="panel" id="regressions" aria-labelledby="regressions-title">
      <h3 id="regressions-title">Version regressions</h3>
      {props.alert}
      {props.done ? (
        <Notice
          text={`${props.done.entity}: ${props.done.restamped} row(s) re-stamped at the source, ${props.done.unchanged} needed nothing. The re-stamps flow to the replica like any change.`}
        />
      ) : null}
      <p class="muted">
        Source rows older than what the replica holds (after a point-in-time restore, usually): the replica ignores
        their changes as stale. Re-stamping raises each source row's version above the replica's, content unchanged, so
        it and every later change apply again.
      </p>
      {open.length ? (
        <div class="table-wrap">
          <table>
            <caption class="muted">
              {open.length >= REGRESSIONS_SHOWN ? `The first ${REGRESSIONS_SHOWN} open` : `${open.length} open`}
            </caption>
            <TableHead columns={["Entity", "Row", "Source version", "Replica holds", "Last seen"]} />
            <tbody>
              {open.map((r) => (
                <tr>
                  <td>{r.entity}</td>
                  <td>
                    <code>{r.id}</code>
                  </td>
                  <td class="num">{r.source_version}</td>
                  <td class="num">
                    {r.replica_version} ({r.replica_state})
                  </td>
                  <td>
                    <UtcTime at={r.last_seen_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p>No open version regression.</p>
      )}
      {props.restampable.length ? (
        <form method="post" action="/console/consistency/regressions/resolve" class="action-form">
          <input type="hidden" name="csrf" value={props.session.csrf} />
          <label for="regressions-entity">Entity</label>
          <select id="regressions-entity" name="entity">
            {props.restampable.map((e) => (
              <option value={e}>{e}</option>
            ))}
          </select>
          <ReasonField id="regressions-reason" />
          <button class="primary" type="submit">
            Re-stamp its open regressions at the source
          </button>
        </form>
      ) : null}
    </section>
  );
}
