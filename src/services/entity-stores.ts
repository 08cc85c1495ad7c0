import type { ReplicaTarget } from "../../core/apply-batch";
import { isExternalAuthority, type EntityDefinition } from "../../schemas/define-entity";
import { ValidationError } from "../../core/errors";
import { d1Replica } from "../../core/stores/d1-replica";
import {
  d1Pages,
  d1Repairer,
  supabasePages,
  supabaseRepairer,
  type PageReader,
  type Repairer,
} from "../../core/stores/store-pages";
import { supabaseReplica } from "../../core/stores/supabase-replica";
import { d1RowState, supabaseRowState, type RowState } from "../../core/stores/row-state";
import type { SupabaseRpc } from "../../core/stores/supabase-rpc";
import type { ReplayStores } from "./replay-decide";

/** Which store to read as the source and which to write as the replica, from the registry. */
export function entityStores(
  entity: EntityDefinition,
  db: D1Database,
  rpc: SupabaseRpc,
): {
  source: PageReader;
  replica: PageReader;
  repairer: Repairer;
  target: ReplicaTarget;
  sourceState: RowState;
  replicaState: RowState;
} {
  assertSourceReadable(entity);
  if (entity.replica === "d1") {
    return {
      source: supabasePages(rpc),
      replica: d1Pages(db),
      repairer: d1Repairer(db),
      target: d1Replica(db),
      sourceState: supabaseRowState(rpc),
      replicaState: d1RowState(db),
    };
  }
  if (entity.replica === "supabase") {
    return {
      source: d1Pages(db),
      replica: supabasePages(rpc),
      repairer: supabaseRepairer(rpc),
      target: supabaseReplica(rpc),
      sourceState: d1RowState(db),
      replicaState: supabaseRowState(rpc),
    };
  }
  throw new Error(`${entity.name} is not replicated`);
}

/**
 * Reconcile, backfill, resolving regressions and refresh replays read the authoritative store
 * back. For an entity owned outside our stores (HubSpot) there is nothing of ours to read, so
 * they refuse with a stable code instead of reading the wrong store.
 */
export function assertSourceReadable(entity: EntityDefinition): void {
  if (isExternalAuthority(entity.authority))
    throw new ValidationError(
      "EXTERNAL_AUTHORITY_UNSUPPORTED",
      `${entity.name} is authoritative in ${entity.authority}: reading the source back (reconcile, backfill, regressions, refresh replay) is not supported for HubSpot-authoritative entities yet`,
    );
}

/**
 * The row states replay reads, by the registry: `rpc` is called only when a Supabase side is
 * needed, so replaying D1 replicas works while Supabase is misconfigured.
 */
export function replayStores(db: D1Database, rpc: () => SupabaseRpc): ReplayStores {
  const d1 = d1RowState(db);
  let supabase: ReturnType<typeof supabaseRowState> | undefined;
  const of = (store: "d1" | "supabase" | null) => (store === "d1" ? d1 : (supabase ??= supabaseRowState(rpc())));
  return {
    replica: (entity) => of(entity.replica),
    source: (entity) => {
      assertSourceReadable(entity);
      return of(entity.authority as "d1" | "supabase");
    },
  };
}
