/** @jsxImportSource hono/jsx */
import { TableHead } from "../table-head";
import type {
  IntegrityRunRecord as IntegrityRecord,
  ReconcileRunRecord as RunRecord,
} from "../../../services/consistency-actions";

const KINDS = [
  { kind: "missing", label: "Missing in the replica" },
  { kind: "extra", label: "Extra in the replica" },
  { kind: "altered", label: "Altered in the replica" },
] as const;

/** The run's state in words; the colour only repeats it. */
function RunStatus(props: { status: string }) {
  const state = props.status === "complete" ? "fresh" : props.status === "partial" ? "stale" : "error";
  return <span class={`badge state-${state}`}>{props.status}</span>;
}

/** One run: what differed (with the ids the run kept: up to five per kind), what was repaired, what could not be. */
export function RunResult(props: { run: RunRecord }) {
  const r = props.run;
  const differences = r.missing + r.extra + r.altered;
  return (
    <article class="run" aria-labelledby={`run-${r.id}`}>
      <h4 id={`run-${r.id}`}>
        {r.entity} <RunStatus status={r.status} />{" "}
        <span class="muted">{r.repair ? "repair" : "dry run (nothing changed)"}</span>
      </h4>
      <p>
        {r.rows_checked} row(s) checked: {differences ? `${differences} difference(s)` : "no differences"}
        {r.repair ? `, ${r.repaired} repaired` : ""}
        {r.skipped ? `, ${r.skipped} left to the pipeline (changed meanwhile)` : ""}
        {r.invalid ? `, ${r.invalid} invalid` : ""}
        {r.regressed ? `, ${r.regressed} regressed` : ""}.
      </p>
      {differences ? (
        <dl class="diffs">
          {KINDS.filter((k) => r[k.kind] > 0).map((k) => (
            <>
              <dt>
                {k.label}: {r[k.kind]}
              </dt>
              <dd>
                <ul class="ids">
                  {r.examples[k.kind].map((id) => (
                    <li>
                      <code>{id}</code>
                    </li>
                  ))}
                  {r[k.kind] > r.examples[k.kind].length ? (
                    <li class="muted">and {r[k.kind] - r.examples[k.kind].length} more</li>
                  ) : null}
                </ul>
              </dd>
            </>
          ))}
        </dl>
      ) : null}
      {r.problems.length ? (
        <ul class="problems" aria-label={`Rows of ${r.entity} that could not be made equal`}>
          {r.problems.map((p) => (
            <li>
              <code>{p.id}</code> {p.kind} <code>{p.code}</code>: {p.reason}
            </li>
          ))}
        </ul>
      ) : null}
      {r.error ? (
        <p class="error" role="alert">
          The run stopped: {r.error} (the next run resumes there)
        </p>
      ) : null}
    </article>
  );
}

export function RecentRuns(props: { runs: RunRecord[] }) {
  if (!props.runs.length) return <p class="muted">No reconciliation has run yet.</p>;
  return (
    <div class="table-wrap">
      <p class="muted" id="recent-runs">
        Latest reconciliation runs, the hourly cron's included
      </p>
      <table aria-labelledby="recent-runs">
        <TableHead
          columns={["Finished (UTC)", "Entity", "Kind", "Status", "Checked", "Missing", "Extra", "Altered", "Repaired"]}
        />
        <tbody>
          {props.runs.map((r) => (
            <tr>
              <td>
                <time datetime={r.finished_at}>{r.finished_at.replace("T", " ").slice(0, 19)}</time>
              </td>
              <td>{r.entity}</td>
              <td>{`${r.trigger}, ${r.repair ? "repair" : "dry run"}`}</td>
              <td>
                <RunStatus status={r.status} />
              </td>
              <td>{r.rows_checked}</td>
              <td>{r.missing}</td>
              <td>{r.extra}</td>
              <td>{r.altered}</td>
              <td>{r.repaired}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function IntegrityResult(props: { run: IntegrityRecord | undefined }) {
  const run = props.run;
  if (!run) return <p class="muted">No integrity check has run yet.</p>;
  const found = run.findings.filter((f) => f.count > 0);
  return (
    <div>
      <p>
        Last check <time datetime={run.finished_at}>{run.finished_at.replace("T", " ").slice(0, 19)} UTC</time>:{" "}
        <span class={`badge state-${run.issues ? "warning" : "fresh"}`}>
          {run.issues ? `${run.issues} issue(s)` : "no issues"}
        </span>
      </p>
      {found.length ? (
        <div class="table-wrap">
          <table>
            <TableHead columns={["Check", "Store", "Where", "Count", "Examples"]} />
            <tbody>
              {found.map((f) => (
                <tr>
                  <td>{f.check}</td>
                  <td>{f.store}</td>
                  <td>{[f.entity, f.column].filter(Boolean).join(".")}</td>
                  <td>{f.count}</td>
                  <td>
                    {f.examples.map((e) => (
                      <code class="example">{String(e)}</code>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}
