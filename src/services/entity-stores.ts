import type { ReplicaTarget } from "../../core/apply-batch";
import { isExternalAuthority, type EntityDefinition, type ExternalAuthority } from "../../schemas/define-entity";
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
 * Reconcile, backfill and resolving regressions read the authoritative store back page by page
 * and compare or repair. For an entity owned outside our stores (HubSpot) there is nothing of ours
 * to page through (HubSpot's API is no ordered key range), so they refuse with a stable code
 * instead of reading the wrong store. Refresh replay reads single rows, which HubSpot serves
 * (replayStores' `external`).
 */
export function assertSourceReadable(entity: EntityDefinition): void {
  if (isExternalAuthority(entity.authority))
    throw new ValidationError(
      "EXTERNAL_AUTHORITY_UNSUPPORTED",
      `${entity.name} is authoritative in ${entity.authority}: reading the source back page by page (reconcile, backfill, regressions) is not supported for HubSpot-authoritative entities yet; replay with mode refresh re-reads single contacts`,
    );
}

/**
 * The row states replay reads, by the registry: the entity's authority is the source, its replica
 * the replica. `rpc` is called only when a Supabase side is needed, so replaying D1 replicas works
 * while Supabase is misconfigured; `external` is the reader of each outside authority (HubSpot),
 * built only when an entity it owns is read.
 */
export function replayStores(
  db: D1Database,
  rpc: () => SupabaseRpc,
  external: Record<ExternalAuthority, () => RowState>,
): ReplayStores {
  const d1 = d1RowState(db);
  let supabase: ReturnType<typeof supabaseRowState> | undefined;
  const outside = new Map<ExternalAuthority, RowState>();
  const of = (store: "d1" | "supabase" | null) => (store === "d1" ? d1 : (supabase ??= supabaseRowState(rpc())));
  return {
    replica: (entity) => of(entity.replica),
    source: (entity) => {
      const authority = entity.authority;
      if (!isExternalAuthority(authority)) return of(authority);
      if (!outside.has(authority)) outside.set(authority, external[authority]());
      return outside.get(authority)!;
    },
  };
}
