import type { z } from "zod";
import type { StateMachine } from "./state-machine";

/** The store that owns an entity. The other store, if any, holds a replica. */
export type Store = "supabase" | "d1";

export interface EntityDefinition<Name extends string = string, Row extends z.ZodObject = z.ZodObject> {
  name: Name;
  /** Table name in both stores (the public schema in Postgres). */
  table: string;
  authority: Store;
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

/** Column names in schema order: drives the SQL builders for D1. */
export function columnsOf(def: EntityDefinition): string[] {
  return Object.keys(def.row.shape);
}
