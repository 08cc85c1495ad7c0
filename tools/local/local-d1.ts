import { join } from "node:path";
import { PROJECT_ROOT } from "./wrangler";

/** The slice of the D1 binding the harness uses (workers-types are not loaded on the Node side). */
interface D1Binding {
  prepare(sql: string): { bind(...values: unknown[]): { all<T>(): Promise<{ results: T[] }> } };
}

export interface LocalD1 {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/**
 * Reads (and may write) the local D1 that `wrangler dev --persist-to <dir>` uses, from Node.
 *
 * `wrangler d1 execute --local` would do, but costs ~2 s per call (a new workerd each time); the
 * harness polls D1, so it keeps one getPlatformProxy workerd open on the same persist dir (~10 ms
 * per query). Both workerd processes open the same SQLite file, and SQLite's file locking keeps
 * them coherent, the same way `wrangler d1 execute --local` works next to a running `wrangler dev`.
 * The price of that locking (observed with wrangler 4.86): when a query from here coincides with
 * a worker write, one of them fails at once with SQLITE_BUSY, reads included (Miniflare runs each
 * D1 query in storage.transactionSync). Ours surfaces as "internal error" and is retried here
 * (workerd still logs it); the worker's is handled as a transient failure. So poll sparingly:
 * the demo polls every 100 ms.
 *
 * Caveat: Miniflare installs SIGINT/SIGTERM handlers that dispose it and exit at once, so a process
 * that opened this cannot shut down asynchronously on Ctrl-C; rely on 'exit' hooks there.
 */
export async function openLocalD1(persistDir: string): Promise<LocalD1> {
  // Imported on demand: loading wrangler costs ~2 s and registers signal handlers.
  const { getPlatformProxy } = await import("wrangler");
  const proxy = await getPlatformProxy<{ DB: D1Binding }>({
    configPath: join(PROJECT_ROOT, "wrangler.toml"),
    persist: { path: join(persistDir, "v3") }, // wrangler's --persist-to adds the v3 level itself
    envFiles: [],
    remoteBindings: false,
  });
  return {
    async query<T>(sql: string, params: unknown[] = []) {
      for (let attempt = 1; ; attempt++) {
        try {
          return (
            await proxy.env.DB.prepare(sql)
              .bind(...params)
              .all<T>()
          ).results;
        } catch (error) {
          // A D1 error carries only its message (no code), so "busy" is read from the text.
          if (attempt >= 10 || !/SQLITE_BUSY|database is locked|internal error/i.test(String(error))) throw error;
          await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
        }
      }
    },
    close: () => proxy.dispose(),
  };
}
