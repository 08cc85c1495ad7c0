import { scratchDatabase } from "../tools/local/scratch-database";

/**
 * The bench's Postgres: scratchDatabase with durable commits (fsync on, the default). The tests
 * turn fsync off for speed, which would make a per-row commit nearly free here while Supabase
 * (and local D1) pay a disk flush for each. With DATABASE_URL, a fresh database on that server.
 */
export function benchDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  return scratchDatabase("bench", { durable: true });
}
