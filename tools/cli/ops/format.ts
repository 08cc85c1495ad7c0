/** Plain-text rendering for humans. `--json` bypasses all of it. */

export function cell(value: unknown): string {
  if (value === null || value === undefined) return "-";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** Long messages would push every other column off the screen; `show` and `--json` have the full text. */
export function truncate(text: string, max = 60): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A page of a listing, and how to ask for the next one when there is one. */
export function withMore(listing: string, nextCursor: string | null): string {
  return nextCursor ? `${listing}\n\nmore: add --cursor ${nextCursor}` : listing;
}

/** Columns are the first row's keys, padded to the widest cell. */
export function table(rows: ReadonlyArray<Record<string, unknown>>): string {
  if (!rows.length) return "(none)";
  const cols = Object.keys(rows[0]!);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(width[i]!))
      .join("  ")
      .trimEnd();
  return [
    line(cols),
    line(width.map((w) => "-".repeat(w))),
    ...rows.map((r) => line(cols.map((c) => cell(r[c])))),
  ].join("\n");
}

/** `key: value` lines with the values aligned, for one record. */
export function keyValues(record: Record<string, unknown>): string {
  const width = Math.max(0, ...Object.keys(record).map((k) => k.length));
  return Object.entries(record)
    .map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${cell(v)}`)
    .join("\n");
}

/** A count record (`{ open: 3, resolved: 7 }`) as a table of two columns, largest first, zeros left out. */
export function countTable(counts: Record<string, number> | undefined, label: string): string {
  const rows = Object.entries(counts ?? {})
    .filter(([, n]) => n !== 0)
    .sort(([, a], [, b]) => b - a)
    .map(([key, n]) => ({ [label]: key, count: n }));
  return table(rows);
}

export function progressBar(done: number, total: number, width = 30): string {
  const share = total > 0 ? Math.min(1, Math.max(0, done / total)) : done > 0 ? 1 : 0;
  const filled = Math.round(share * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(Math.round(share * 100)).padStart(3)}%`;
}

export function seconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** Quotes an argument for a command line the operator will paste into a POSIX shell. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9._@+:=,\/-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
