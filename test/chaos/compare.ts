import { canonicalRow } from "../../schemas/canonical-row";
import { storesHolding } from "../../schemas/define-entity";
import { ENTITIES } from "../../schemas/registry";
import type { ChaosStack } from "./chaos-stack";

export interface Divergence {
  entity: string;
  id: string;
  kind: "lost" | "mismatched" | "resurrected";
  detail?: string;
}

/**
 * Row-by-row comparison of every replicated entity, authoritative store against replica, on the
 * canonical row image (the registry's schema): lost (in the source, missing in the replica),
 * mismatched (present in both, different), resurrected (in the replica, gone from the source).
 */
export async function compareStores(
  stack: Pick<ChaosStack, "sql" | "d1">,
): Promise<{ rows: number; divergences: Divergence[] }> {
  const divergences: Divergence[] = [];
  let rows = 0;
  for (const entity of ENTITIES) {
    // Both of our stores must hold it: HubSpot contacts live in Supabase alone.
    if (storesHolding(entity).length < 2) continue;
    const pgRows = (await stack.sql.unsafe(`select to_jsonb(t) as j from public.${entity.table} t`)).map(
      (r) => r.j as Record<string, unknown>,
    );
    const d1Rows = await stack.d1.query<Record<string, unknown>>(`SELECT * FROM ${entity.table}`);
    const [source, replica] = entity.authority === "supabase" ? [pgRows, d1Rows] : [d1Rows, pgRows];
    const index = (list: Array<Record<string, unknown>>) => new Map(list.map((r) => [String(r.id), r]));
    const src = index(source);
    const rep = index(replica);
    rows += src.size;
    for (const [id, row] of src) {
      const copy = rep.get(id);
      if (!copy) divergences.push({ entity: entity.name, id, kind: "lost" });
      else {
        const a = image(entity.name, row);
        const b = image(entity.name, copy);
        if (a !== b)
          divergences.push({ entity: entity.name, id, kind: "mismatched", detail: `source ${a} replica ${b}` });
      }
    }
    for (const id of rep.keys()) if (!src.has(id)) divergences.push({ entity: entity.name, id, kind: "resurrected" });
  }
  return { rows, divergences };
}

function image(entity: string, row: Record<string, unknown>): string {
  try {
    return JSON.stringify(canonicalRow(entity, row));
  } catch (error) {
    return `unparseable: ${(error as Error).message}`;
  }
}
