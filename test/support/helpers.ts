import { env, SELF } from "cloudflare:test";
import postgres from "postgres";

export const SECRETS = { webhook: "test-webhook-secret", admin: "test-admin-token", api: "test-api-token" };

let client: postgres.Sql | undefined;
/**
 * The test Postgres, reached through the same Hyperdrive binding the worker uses. Never ended:
 * closing a postgres.js client inside the Workers pool raises an unhandled "Stream was cancelled".
 */
export function pg(): postgres.Sql {
  client ??= postgres(env.HYPERDRIVE!.connectionString, { max: 2, fetch_types: false, onnotice: () => {} });
  return client;
}

export async function call(
  method: string,
  path: string,
  opts: { body?: unknown; token?: string; raw?: string; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { "content-type": "application/json", ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const response = await SELF.fetch(`https://worker.test${path}`, {
    method,
    headers,
    body: opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
  const json = (await response.json()) as {
    success: boolean;
    data?: any;
    error?: any;
    meta: { requestId: string; duration: number };
  };
  return { status: response.status, json, headers: response.headers };
}

/** Polls until `probe` returns a truthy value, or fails with what it last saw. */
export async function waitFor<T>(probe: () => Promise<T>, what: string, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await probe();
    if (last) return last as NonNullable<T>;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
}

export function d1Row(table: string, id: string) {
  return env.DB.prepare(`SELECT * FROM ${table} WHERE id = ?1`).bind(id).first<Record<string, unknown>>();
}

/** Supabase Database Webhook payload, as supabase_functions.http_request builds it. */
export function webhookPayload(
  type: "INSERT" | "UPDATE" | "DELETE",
  table: string,
  record: unknown,
  oldRecord: unknown = null,
) {
  return {
    type,
    table,
    schema: "public",
    record: type === "DELETE" ? null : record,
    old_record: type === "INSERT" ? null : oldRecord,
  };
}

/** A row as Postgres would hand it to a webhook (row_to_json of the committed row). */
export async function pgRow(table: string, id: string): Promise<Record<string, unknown>> {
  const [row] = await pg().unsafe(`select to_jsonb(t) as j from public.${table} t where id = $1`, [id]);
  return row!.j as Record<string, unknown>;
}

/**
 * The worker's env with Supabase transiently unavailable: the real server refuses every
 * connection of this role with "too many connections" (SQLSTATE 53300), as an exhausted
 * Supabase pooler does.
 */
export function envWithSupabaseExhausted(): typeof env {
  const url = new URL(env.HYPERDRIVE!.connectionString);
  url.username = "sds_test_exhausted";
  url.password = "exhausted";
  return { ...env, HYPERDRIVE: { ...env.HYPERDRIVE!, connectionString: url.toString() } } as typeof env;
}
