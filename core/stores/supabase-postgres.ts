import postgres from "postgres";
import { PermanentStoreError } from "../errors";
import { classifyPgError } from "./pg-errors";
import { SUPABASE_FUNCTIONS, type SupabaseFunction, type SupabaseRpc } from "./supabase-rpc";

export type Sql = postgres.Sql;

/** A postgres.js client for Hyperdrive (or any Postgres URL). One per request or batch. */
export function connectPostgres(connectionString: string): Sql {
  // fetch_types: false avoids a catalogue round trip per connection; Hyperdrive pools for us.
  return postgres(connectionString, { max: 5, fetch_types: false, connect_timeout: 10, idle_timeout: 5 });
}

/**
 * Transport 1: direct SQL — `select public.fn(arg => E'…'::type, …) as result`, arguments inlined
 * as escaped literals.
 *
 * Why literals, not bind parameters: postgres.js sends a statement with parameters that the
 * connection has not prepared yet as Parse+Describe, waits for the answer, then Bind+Execute: two
 * round trips. The consumer's connection is new for every batch, so every call paid both. With no
 * parameters the driver sends Parse, Bind and Execute together: one round trip. `prepare: false`
 * keeps each (unique) statement unnamed, so nothing accumulates on a long-lived connection.
 */
export function postgresRpc(sql: Sql): SupabaseRpc {
  return {
    async call<T>(fn: SupabaseFunction, args: Record<string, unknown>): Promise<T> {
      const signature: Record<string, string> = SUPABASE_FUNCTIONS[fn];
      const list = Object.keys(signature)
        .map((n) => `${n} => ${sqlLiteral(args[n], signature[n]!)}`)
        .join(", ");
      try {
        const rows = await sql.unsafe(`select public.${fn}(${list}) as result`, [], { prepare: false });
        return rows[0]!.result as T;
      } catch (error) {
        throw classifyPgError(error);
      }
    },
  };
}

/**
 * One argument as a typed SQL literal: `null::type` or `E'…'::type`.
 *
 * Safe by construction, whatever the server's settings: inside an escape string (E'…', whose
 * meaning does not depend on standard_conforming_strings) every backslash and every quote of the
 * text is doubled, so the lexer reads back exactly the text and the literal ends at our closing
 * quote. The cast then makes Postgres parse the text as the declared type (a malformed uuid or
 * number is a data error, as with a bind parameter). jsonb arguments are JSON.stringify'd, as the
 * driver did for a jsonb parameter; others must be a string, a finite number or a bigint.
 */
export function sqlLiteral(value: unknown, type: string): string {
  // The type comes from SUPABASE_FUNCTIONS, never from data; checked anyway, it is spliced in.
  if (!/^[a-z][a-z0-9_ ]*$/.test(type))
    throw new PermanentStoreError("INVALID_ARGUMENT", `unsupported argument type ${type}`);
  if (value === null || value === undefined) return `null::${type}`;
  let text: string;
  if (type === "jsonb") {
    text = JSON.stringify(value);
  } else if (
    typeof value === "string" ||
    typeof value === "bigint" ||
    (typeof value === "number" && Number.isFinite(value))
  ) {
    text = String(value);
  } else {
    throw new PermanentStoreError(
      "INVALID_ARGUMENT",
      `argument of type ${type} must be a string, a finite number or a bigint, got ${typeof value}`,
    );
  }
  // A NUL cannot be sent in a query string (Postgres rejects it in text values too). JSON text
  // never holds one: JSON.stringify writes it as \u0000.
  if (text.includes("\u0000")) throw new PermanentStoreError("DATA_EXCEPTION", "argument contains a NUL character");
  return `E'${text.replaceAll("\\", "\\\\").replaceAll("'", "''")}'::${type}`;
}
