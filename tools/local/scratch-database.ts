import { postgresExecutor } from "./postgres-executor";
import { startThrowawayPostgres } from "./throwaway-postgres";

/**
 * A Postgres database nobody else uses, for tests and the chaos suite: with DATABASE_URL, a fresh
 * database created on that server and dropped afterwards (the user's data is never touched);
 * otherwise a throwaway cluster from the local PostgreSQL binaries. The URL carries a password
 * (Hyperdrive's local binding requires one).
 */
export async function scratchDatabase(
  tag: string,
  opts: { durable?: boolean } = {},
): Promise<{ url: string; drop: () => Promise<void> }> {
  const server = process.env.DATABASE_URL;
  if (!server) {
    const pg = await startThrowawayPostgres(opts);
    return { url: pg.url, drop: async () => pg.stop() };
  }
  const admin = postgresExecutor(server);
  const name = `sds_${tag}_${Date.now()}_${process.pid}`;
  await admin.exec(`create database ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  if (!url.password) url.password = "postgres";
  return {
    url: url.toString(),
    drop: async () => {
      await admin.exec(`drop database if exists ${name} with (force)`);
      await admin.close();
    },
  };
}
