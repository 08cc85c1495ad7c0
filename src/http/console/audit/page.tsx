/** @jsxImportSource hono/jsx */
import { TableHead } from "../table-head";
import type { z } from "zod";
import { AUDIT_ACTIONS, AUTH_KINDS, type auditEntrySchema } from "../../../../schemas/operator-api";
import type { SyncError } from "../../../../core/errors";
import { Refusal } from "../refusal";
import { Layout } from "../layout";
import type { ConsoleSession } from "../session";

type AuditEntry = z.infer<typeof auditEntrySchema>;

/** The filters as typed (the form keeps them), and the link to the next, older page. */
export interface AuditView {
  session: ConsoleSession;
  filters: Record<string, string>;
  items: AuditEntry[];
  nextPage: string | null;
  firstPage: string | null;
  refusal?: SyncError;
}

const AUTH_WORDS: Record<string, string> = {
  "admin-token": "claimed (shared admin token)",
  "operator-token": "proven (operator token)",
  "access-jwt": "proven (Cloudflare Access)",
};

/** `key: value` pairs in words, one level deep: what an action selected or did, never a raw JSON blob. */
function Summary(props: { value: unknown }) {
  const v = props.value;
  if (v === null || v === undefined) return <span class="muted">—</span>;
  if (typeof v !== "object") return <>{String(v)}</>;
  const pairs = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== null && x !== undefined);
  return (
    <>{pairs.map(([k, x]) => `${k}: ${typeof x === "object" ? JSON.stringify(x) : String(x)}`).join(" · ") || "—"}</>
  );
}

function TextFilter(props: { id: string; label: string; value?: string; type?: string; hint?: string }) {
  return (
    <div>
      <label for={`audit-${props.id}`}>{props.label}</label>
      <input
        id={`audit-${props.id}`}
        name={props.id}
        type={props.type ?? "text"}
        value={props.value ?? ""}
        aria-describedby={props.hint ? `audit-${props.id}-hint` : undefined}
      />
      {props.hint ? (
        <span class="hint muted" id={`audit-${props.id}-hint`}>
          {props.hint}
        </span>
      ) : null}
    </div>
  );
}

function ChoiceFilter(props: { id: string; label: string; value?: string; options: readonly string[] }) {
  return (
    <div>
      <label for={`audit-${props.id}`}>{props.label}</label>
      <select id={`audit-${props.id}`} name={props.id}>
        <option value="" selected={!props.value}>
          any
        </option>
        {props.options.map((o) => (
          <option value={o} selected={props.value === o}>
            {o}
          </option>
        ))}
      </select>
    </div>
  );
}

export function AuditPage(v: AuditView) {
  const f = v.filters;
  return (
    <Layout title="Audit" section="audit" session={v.session}>
      <h2>Audit trail</h2>
      <p class="muted">
        Every operator action, newest first: who (proven by their own token or Cloudflare Access, or only claimed with
        the shared admin token), when, why, and what it selected and did. Same data as <code>npm run ops -- audit</code>
        .
      </p>
      <form method="get" action="/console/audit" class="panel filters" aria-label="Filter the audit trail">
        <TextFilter id="actor" label="Operator" value={f.actor} hint="exactly as recorded, e.g. alice@ops" />
        <ChoiceFilter id="action" label="Action" value={f.action} options={AUDIT_ACTIONS} />
        <ChoiceFilter id="auth" label="Identity" value={f.auth} options={AUTH_KINDS} />
        <TextFilter
          id="target"
          label="Target"
          value={f.target}
          hint="an entity, or a task, group, plan, job or token id"
        />
        <TextFilter id="since" label="From (UTC)" type="datetime-local" value={f.since} hint="at or after" />
        <TextFilter id="until" label="To (UTC)" type="datetime-local" value={f.until} hint="before" />
        <div class="filter-buttons">
          <button class="primary" type="submit">
            Apply filters
          </button>
          <a href="/console/audit">Clear</a>
        </div>
      </form>
      <Refusal error={v.refusal} read />
      {v.refusal ? null : v.items.length ? (
        <div class="table-wrap">
          <table>
            <caption class="muted">
              {v.items.length} {v.items.length === 1 ? "entry" : "entries"} on this page
            </caption>
            <TableHead columns={["When (UTC)", "Operator", "Action", "Target", "Reason", "Selection", "Result"]} />
            <tbody>
              {v.items.map((e) => (
                <tr>
                  <td>
                    <time datetime={e.at}>{e.at.replace("T", " ").slice(0, 19)}</time>
                  </td>
                  <td class="wrap">
                    <strong>{e.actor}</strong>
                    <br />
                    <span class="muted">{AUTH_WORDS[e.auth] ?? e.auth}</span>
                  </td>
                  <td>{e.action}</td>
                  <td>
                    {e.target_type} <code>{e.target_id}</code>
                  </td>
                  <td class="wrap">{e.reason ?? <span class="muted">—</span>}</td>
                  <td class="wrap">
                    <Summary value={e.selection} />
                  </td>
                  <td class="wrap">
                    <Summary value={e.result} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p>No audit entries match.</p>
      )}
      <nav class="pager" aria-label="Audit pages">
        {v.firstPage ? <a href={v.firstPage}>Newest entries</a> : null}
        {v.nextPage ? <a href={v.nextPage}>Older entries</a> : null}
      </nav>
    </Layout>
  );
}
