import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketHandler, type PGLiteSocketHandlerOptions } from "@electric-sql/pglite-socket";

export interface PgliteServer {
  db: PGlite;
  /** postgres:// URL of the socket server. It carries a password because Hyperdrive's local
   * binding refuses URLs without one; PGlite accepts any credentials. */
  url: string;
  stop(): Promise<void>;
}

/**
 * Embedded Postgres (PGlite, WASM) served over TCP, so that wrangler's Hyperdrive binding, psql
 * and the harness all reach one database with no install.
 *
 * PGlite is a single backend session, so concurrent connections must be multiplexed onto it.
 * pglite-socket 0.2.17's own server (PGLiteSocketServer, maxConnections > 1) interleaves clients
 * message by message, and only keeps a client exclusive inside an explicit transaction block.
 * Clients that use the extended protocol with the unnamed statement (postgres.js does for
 * `sql.unsafe`, as the worker's RPC and the harness do) then bind their parameters to each other's
 * statements: we saw `invalid input syntax for type uuid: "[{…events…}]"` under light load.
 * So we keep pglite-socket's per-connection protocol handler and replace its queue: a connection
 * owns the backend from its first message until the backend reports ReadyForQuery "idle", i.e.
 * for a whole exchange (Parse … Sync, a simple Query, or a transaction), like a transaction-mode
 * pooler. A psql session that leaves a transaction open makes the others wait, as a lock would.
 * `dataDir` undefined means in memory.
 */
export async function startPgliteServer(opts: {
  dataDir?: string;
  host?: string;
  port: number;
}): Promise<PgliteServer> {
  const unlock = opts.dataDir ? lockDataDir(opts.dataDir) : () => {};
  let db: PGlite;
  try {
    db = await PGlite.create(opts.dataDir);
  } catch (error) {
    unlock();
    throw error;
  }
  const host = opts.host ?? "127.0.0.1";
  const queue = new ExchangeQueue(db);
  const handlers = new Set<PGLiteSocketHandler>();
  const server = createServer((socket) => {
    const handler = new PGLiteSocketHandler({
      // Structurally what the handler calls (enqueue, clearQueueForHandler,
      // clearTransactionIfNeeded); the declared type is pglite-socket's unexported class.
      queryQueue: queue as unknown as PGLiteSocketHandlerOptions["queryQueue"],
      closeOnDetach: true,
    });
    handlers.add(handler);
    const forget = () => handlers.delete(handler);
    handler.addEventListener("close", forget);
    handler.addEventListener("error", forget);
    handler.attach(socket).catch(() => socket.destroy());
  });
  // The worker opens a fresh postgres.js client per request (Hyperdrive pools in production).
  server.maxConnections = 100;
  try {
    await listen(server, opts.port, host);
  } catch (error) {
    await db.close();
    unlock();
    throw new Error(`cannot listen on ${host}:${opts.port} for PGlite (set PG_PORT?): ${(error as Error).message}`);
  }
  const port = (server.address() as { port: number }).port;
  return {
    db,
    url: `postgres://postgres:postgres@${host}:${port}/postgres`,
    async stop() {
      const closed = new Promise((done) => server.close(done));
      await Promise.all([...handlers].map((h) => h.detach(true)));
      await closed;
      await db.close();
      unlock();
    },
  };
}

interface Pending {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (error: Error) => void;
}

const TERMINATE = 0x58; // 'X'
const READY_FOR_QUERY = 0x5a; // 'Z'
const IDLE = 0x49; // 'I'
const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]); // 'S'
const ROLLBACK = simpleQuery("rollback");

function simpleQuery(sql: string): Uint8Array {
  const text = Buffer.from(`${sql}\0`);
  const message = Buffer.alloc(5 + text.length);
  message[0] = 0x51; // 'Q'
  message.writeInt32BE(4 + text.length, 1);
  text.copy(message, 5);
  return message;
}

/** Runs protocol messages on the single PGlite session, one client exchange at a time. */
class ExchangeQueue {
  private pending: Pending[] = [];
  /** The connection in the middle of an exchange, if any: only its messages may run. */
  private owner: number | null = null;
  private draining = false;

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.pending.push({ handlerId, message, onData, resolve, reject });
      void this.drain();
    });
  }

  clearQueueForHandler(handlerId: number): void {
    this.pending = this.pending.filter((p) => {
      if (p.handlerId === handlerId) p.reject(new Error("Handler disconnected"));
      return p.handlerId !== handlerId;
    });
  }

  /** A client went away mid-exchange: finish the exchange and roll back, so others can run. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    // Under PGlite's lock, where `owner` is updated too, so it matches the session's state.
    await this.db.runExclusive(async () => {
      if (this.owner !== handlerId) return;
      await this.db.execProtocolRawStream(SYNC, { onRawData: () => {} });
      if (this.db.isInTransaction()) await this.db.execProtocolRawStream(ROLLBACK, { onRawData: () => {} });
      this.owner = null;
    });
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      for (;;) {
        const i =
          this.owner === null
            ? this.pending.length
              ? 0
              : -1
            : this.pending.findIndex((p) => p.handlerId === this.owner);
        if (i < 0) return;
        const item = this.pending.splice(i, 1)[0]!;
        // Terminate: the socket closes next and the handler cleans up; PGlite's session must live on.
        if (item.message[0] === TERMINATE && item.message.length === 5) {
          item.resolve(0);
          continue;
        }
        const output: Uint8Array[] = [];
        let bytes = 0;
        try {
          await this.db.runExclusive(async () => {
            await this.db.execProtocolRawStream(item.message, {
              onRawData: (data) => {
                output.push(data.slice()); // the view may point into WASM memory that gets reused
                bytes += data.length;
                item.onData(data);
              },
            });
            this.owner = lastReadyForQuery(output) === IDLE ? null : item.handlerId;
          });
        } catch (error) {
          item.reject(error as Error);
          continue;
        }
        item.resolve(bytes);
      }
    } finally {
      this.draining = false;
    }
  }
}

/** Status byte of the last ReadyForQuery among backend messages, or null if there is none. */
function lastReadyForQuery(chunks: Uint8Array[]): number | null {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const buf = Buffer.concat(chunks, total);
  let status: number | null = null;
  for (let at = 0; at + 5 <= buf.length;) {
    const length = buf.readInt32BE(at + 1);
    if (buf[at] === READY_FOR_QUERY && length === 5 && at + 5 < buf.length) status = buf[at + 5]!;
    at += 1 + length;
  }
  return status;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((done, fail) => {
    server.once("error", fail);
    server.listen(port, host, () => {
      server.off("error", fail);
      done();
    });
  });
}

/** Two PGlite instances on one data directory corrupt it; a pid file refuses the second. */
function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const lock = `${resolve(dataDir)}.pid`; // beside the directory: PGlite owns what is inside
  try {
    writeFileSync(lock, String(process.pid), { flag: "wx" });
  } catch {
    const holder = Number(readFileSync(lock, "utf8"));
    if (holder && holder !== process.pid && isRunning(holder)) {
      throw new Error(`${dataDir} is in use by process ${holder} (another npm run dev?)`);
    }
    writeFileSync(lock, String(process.pid)); // stale lock of a process that died
  }
  return () => rmSync(lock, { force: true });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
