/** @jsxImportSource hono/jsx */

/** A stored UTC timestamp as a person reads it, with the exact value for machines. */
export function UtcTime(props: { at: string | null | undefined }) {
  if (!props.at) return <span class="muted">—</span>;
  return <time datetime={props.at}>{props.at.replace("T", " ").slice(0, 19)} UTC</time>;
}
