import type { z } from "zod";
import type { StateMachine } from "./state-machine";

/** Our two databases: where replicas live, and where most entities are owned. */
export type Store = "supabase" | "d1";

/**
 * Outside systems that own an entity (HubSpot owns its contacts). Their changes reach the pipeline
 * through a fetcher that turns them into events. Replay reads single rows back from them through
 * their API (src/wiring/replay-stores.ts); the operations that page through the source
 * (reconcile, backfill, resolving regressions) do not apply to them.
 */
export const EXTERNAL_AUTHORITIES = ["hubspot"] as const;
export type ExternalAuthority = (typeof EXTERNAL_AUTHORITIES)[number];

/** Who owns an entity: one of our stores, or an outside system. */
export type Authority = Store | ExternalAuthority;

export function isExternalAuthority(authority: Authority): authority is ExternalAuthority {
  return (EXTERNAL_AUTHORITIES as readonly string[]).includes(authority);
}

export interface EntityDefinition<Name extends string = string, Row extends z.ZodObject = z.ZodObject> {
  name: Name;
  /** Table name in both stores (the public schema in Postgres). */
  table: string;
  authority: Authority;
  /** Where the replica lives; null for entities that are not replicated. */
  replica: Store | null;
  /** Full row image, as carried by events. Unknown columns are stripped, not rejected. */
  row: Row;
  stateMachine?: StateMachine;
}

export function defineEntity<const Name extends string, Row extends z.ZodObject>(
  def: EntityDefinition<Name, Row>,
): EntityDefinition<Name, Row> {
  for (const required of ["id", "version", "updated_at"]) {
    if (!(required in def.row.shape)) throw new Error(`entity ${def.name}: row schema lacks "${required}"`);
  }
  return def;
}

/** The stores of ours that hold a table of the entity (its authority and/or its replica). */
export function storesHolding(def: EntityDefinition): Store[] {
  const stores = [def.authority, def.replica].filter((s): s is Store => s !== null && !isExternalAuthority(s));
  return [...new Set(stores)];
}

/** Column names in schema order: drives the SQL builders for D1. */
export function columnsOf(def: EntityDefinition): string[] {
  return Object.keys(def.row.shape);
}
