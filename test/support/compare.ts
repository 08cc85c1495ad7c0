import { columnsOf } from "../../schemas/define-entity";
import { entityByName } from "../../schemas/registry";

/**
 * A row image in the registry's canonical form (UTC Z timestamps, booleans, lower-case uuids),
 * whichever store it came from: D1 stores booleans as 0/1, Postgres renders timestamps with offsets.
 */
export function canonical(entity: string, row: Record<string, unknown>): Record<string, unknown> {
  const def = entityByName(entity)!;
  const shape = def.row.shape as Record<string, { def?: { type?: string } }>;
  const input: Record<string, unknown> = {};
  for (const c of columnsOf(def)) {
    const v = row[c];
    input[c] = (v === 0 || v === 1) && isBoolean(shape[c]) ? v === 1 : v;
  }
  return def.row.parse(input) as Record<string, unknown>;
}

function isBoolean(schema: unknown): boolean {
  return (schema as { type?: string })?.type === "boolean";
}
