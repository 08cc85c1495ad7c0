/** @jsxImportSource hono/jsx */
import type { BackfillState } from "../../../services/backfill";

/** How often an open page asks for a backfill's progress again (the data-live contract). */
export const PROGRESS_SECONDS = 3;

export const progressUrl = (entity: string) => `/console/consistency/backfill/${encodeURIComponent(entity)}/progress`;

/**
 * A backfill's progress: the inner HTML of its data-live element, served alone by the progress
 * fragment endpoint. The bar always comes with its numbers in words.
 */
export function BackfillProgress(props: { entity: string; state: BackfillState | null }) {
  const s = props.state;
  const label = `backfill-${props.entity}`;
  if (!s) return <span id={label}>{props.entity}: never backfilled</span>;
  const total = s.total_estimate && s.total_estimate > 0 ? s.total_estimate : null;
  const done = s.status === "complete";
  // The source may have grown since the estimate: never past 100 %, and complete is complete.
  const value = done ? (total ?? 1) : Math.min(s.copied, total ?? s.copied);
  const pct = done ? 100 : total ? Math.min(99, Math.floor((100 * s.copied) / total)) : null;
  const words =
    `${props.entity}: ${done ? "complete" : "running (resume to go on)"} · ${s.copied} row(s) copied` +
    `${total ? ` of about ${total}` : ""}${pct !== null ? ` (${pct}%)` : ""}, ${s.applied} applied` +
    `${s.failed ? `, ${s.failed} refused` : ""}`;
  return (
    <>
      <label id={label} for={`${label}-bar`}>
        {words}
      </label>
      {total || done ? (
        <progress id={`${label}-bar`} max={String(total ?? 1)} value={String(value)}>
          {pct}%
        </progress>
      ) : (
        <progress id={`${label}-bar`}>copying</progress>
      )}
      <span class="muted">
        updated <time datetime={s.updated_at}>{s.updated_at.replace("T", " ").slice(0, 19)} UTC</time>
      </span>
      {s.problems.length ? (
        <ul class="problems" aria-label={`Rows the backfill of ${props.entity} could not copy`}>
          {s.problems.slice(-5).map((p) => (
            <li>
              <code>{p.id}</code> <code>{p.code}</code>: {p.reason}
            </li>
          ))}
        </ul>
      ) : null}
    </>
  );
}
