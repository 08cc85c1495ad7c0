import { columnsOf } from "./define-entity";
import { entityByName } from "./registry";

/**
 * A row image in the registry's canonical form (UTC Z timestamps, booleans, lower-case uuids),
 * whichever store it came from: D1 stores booleans as 0/1, Postgres renders timestamps with offsets.
 */
export function canonicalRow(entity: string, row: Record<string, unknown>): Record<string, unknown> {
  const def = entityByName(entity)!;
  const shape = def.row.shape as Record<string, { type?: string }>;
  const input: Record<string, unknown> = {};
  for (const c of columnsOf(def)) {
    const v = row[c];
    input[c] = (v === 0 || v === 1) && shape[c]?.type === "boolean" ? v === 1 : v;
  }
  return def.row.parse(input) as Record<string, unknown>;
}
