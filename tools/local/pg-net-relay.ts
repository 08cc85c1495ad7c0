import type { SqlExecutor } from "./supabase-migrations";

interface QueuedRequest {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  timeout_milliseconds: number;
}

export interface RelayStats {
  sent: number;
  failed: number;
  /** Requests the fault injection dropped, duplicated or delayed (chaos runs only). */
  dropped: number;
  duplicated: number;
  delayed: number;
}

/** Faults the chaos suite injects on the webhook path; all rates are probabilities per request. */
export interface RelayFaults {
  dropRate: number;
  duplicateRate: number;
  delayRate: number;
  maxDelayMs: number;
  random: () => number;
}

/**
 * The local stand-in for pg_net's background worker (see migrations/dev/pg_net_shim.sql): every
 * `intervalMs` it claims queued requests and sends them.
 *
 * Like pg_net it claims (deletes) rows in the same statement that reads them and never retries:
 * delivery is at most once, whatever the response. That is deliberate: the sync design must not
 * rely on webhooks arriving (the change-log sweep is the guarantee), and a local run that
 * retried would hide exactly the losses production has. Only committed rows are visible, so
 * nothing is sent for a rolled-back change.
 */
export function startPgNetRelay(opts: {
  db: SqlExecutor;
  log: (line: string) => void;
  intervalMs?: number;
  batchSize?: number;
  faults?: RelayFaults;
}): { stats: RelayStats; stop(): Promise<void> } {
  const { db, log, intervalMs = 100, batchSize = 100, faults } = opts;
  const stats: RelayStats = { sent: 0, failed: 0, dropped: 0, duplicated: 0, delayed: 0 };
  const pending = new Set<Promise<void>>();
  let stopped = false;
  let lastPollError = "";

  const send = async (r: QueuedRequest) => {
    try {
      const response = await fetch(r.url, {
        method: r.method,
        headers: r.headers,
        body: r.body === null ? undefined : JSON.stringify(r.body),
        signal: AbortSignal.timeout(r.timeout_milliseconds),
      });
      const text = await response.text();
      if (response.ok) {
        stats.sent++;
      } else {
        stats.failed++;
        log(`pg_net relay: request ${r.id} to ${r.url} -> HTTP ${response.status} ${text.slice(0, 300)}`);
      }
    } catch (error) {
      stats.failed++;
      const cause = (error as Error).cause as { code?: string; message?: string } | undefined;
      const why = cause ? ` (${cause.code ?? cause.message})` : "";
      log(`pg_net relay: request ${r.id} to ${r.url} failed: ${(error as Error).message}${why}`);
    }
  };

  // Lost (pg_net's queue is unlogged and its requests time out), sent twice, or held back so that
  // a later change of the same row overtakes it.
  const sendWithFaults = async (r: QueuedRequest, f: RelayFaults) => {
    if (f.random() < f.dropRate) {
      stats.dropped++;
      return;
    }
    const copies = f.random() < f.duplicateRate ? 2 : 1;
    if (copies === 2) stats.duplicated++;
    if (f.random() < f.delayRate) {
      stats.delayed++;
      const later = new Promise<void>((resolve) => setTimeout(resolve, f.random() * f.maxDelayMs)).then(async () => {
        for (let i = 0; i < copies; i++) await send(r);
      });
      pending.add(later);
      void later.finally(() => pending.delete(later));
      return;
    }
    for (let i = 0; i < copies; i++) await send(r);
  };

  const loop = (async () => {
    while (!stopped) {
      try {
        // pg_net's worker does the same: delete a batch and send what the delete returned.
        const claimed = await db.query<QueuedRequest>(
          `delete from net.http_request_queue where id in (
             select id from net.http_request_queue order by id limit $1 for update skip locked)
           returning id::text, method, url, headers, body, timeout_milliseconds`,
          [batchSize],
        );
        lastPollError = "";
        if (claimed.length > 0) {
          // Sent concurrently, as pg_net does: order is not guaranteed, the consumers do not need it.
          await Promise.all(
            claimed.sort((a, b) => Number(a.id) - Number(b.id)).map(faults ? (r) => sendWithFaults(r, faults) : send),
          );
          continue; // more may be waiting
        }
      } catch (error) {
        // Keep polling: the database may be restarting; report each distinct error once.
        const message = (error as Error).message;
        if (message !== lastPollError) log(`pg_net relay: polling failed (will keep trying): ${message}`);
        lastPollError = message;
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();

  return {
    stats,
    async stop() {
      stopped = true;
      await loop;
      await Promise.all(pending);
    },
  };
}
