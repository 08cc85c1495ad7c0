/** @jsxImportSource hono/jsx */

/** A table's column headings (scope=col, so a screen reader names each cell's column). */
export function TableHead(props: { columns: readonly string[] }) {
  return (
    <thead>
      <tr>
        {props.columns.map((c) => (
          <th scope="col">{c}</th>
        ))}
      </tr>
    </thead>
  );
}
