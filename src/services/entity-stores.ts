import type { ReplicaTarget } from "../../consumers/apply-batch";
import type { EntityDefinition } from "../../schemas/define-entity";
import { d1Replica } from "../stores/d1-replica";
import { d1Pages, d1Repairer, supabasePages, supabaseRepairer, type PageReader, type Repairer } from "../stores/store-pages";
import { supabaseReplica } from "../stores/supabase-replica";
import type { SupabaseRpc } from "../stores/supabase-rpc";

/** Which store to read as the source and which to write as the replica, from the registry. */
export function entityStores(entity: EntityDefinition, db: D1Database, rpc: SupabaseRpc): { source: PageReader; replica: PageReader; repairer: Repairer; target: ReplicaTarget } {
  if (entity.replica === "d1") return { source: supabasePages(rpc), replica: d1Pages(db), repairer: d1Repairer(db), target: d1Replica(db) };
  if (entity.replica === "supabase") return { source: d1Pages(db), replica: supabasePages(rpc), repairer: supabaseRepairer(rpc), target: supabaseReplica(rpc) };
  throw new Error(`${entity.name} is not replicated`);
}
