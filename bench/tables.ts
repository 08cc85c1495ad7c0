/** One table, two renderings: Markdown for RESULTS.md, aligned plain text for the terminal. */
export interface Table {
  header: string[];
  /** "r" right-aligns a column (figures), "l" left-aligns it. */
  align: Array<"l" | "r">;
  rows: string[][];
}

export function markdownTable(t: Table): string[] {
  const escape = (cell: string) => cell.replaceAll("|", "\\|");
  return [
    `| ${t.header.map(escape).join(" | ")} |`,
    `|${t.align.map((a) => (a === "r" ? "---:" : "---")).join("|")}|`,
    ...t.rows.map((row) => `| ${row.map(escape).join(" | ")} |`),
  ];
}

export function textTable(t: Table): string[] {
  const widths = t.header.map((h, i) => Math.max(h.length, ...t.rows.map((row) => (row[i] ?? "").length)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => (t.align[i] === "r" ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(t.header), widths.map((w) => "-".repeat(w)).join("  "), ...t.rows.map(line)];
}
