/** @jsxImportSource hono/jsx */
import type { Child } from "hono/jsx";
import { TableHead } from "./table-head";

/**
 * A console table that reads at 360 px: below 40rem each row becomes a stack of cells, each
 * labelled by its data-label (which should repeat the column's heading). `body` carries the
 * tbody's attributes, e.g. data-live when the rows are refreshed in place.
 */
export function RowsTable(props: {
  label: string;
  columns: readonly string[];
  body?: Record<string, string>;
  children: Child;
}) {
  return (
    <table class="rows" aria-label={props.label}>
      <TableHead columns={props.columns} />
      <tbody {...props.body}>{props.children}</tbody>
    </table>
  );
}

/** The one row of an empty table, across all its columns. */
export function EmptyRow(props: { columns: number; text: string }) {
  return (
    <tr>
      <td colspan={props.columns}>{props.text}</td>
    </tr>
  );
}
