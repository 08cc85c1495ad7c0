import { describe } from "../../core/errors";
import { eventsAfter, summarise } from "../../core/hubspot/sync-events";
import type { SupabaseRpc } from "../../core/stores/supabase-rpc";
import type { RecordedSyncEvent } from "../../schemas/hubspot/sync-event";

export interface EventStreamDeps {
  rpc: SupabaseRpc;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface EventStreamOptions {
  /** Send the events after this seq. */
  after: number;
  /** How long the stream stays open (HUBSPOT_EVENT_STREAM_SECONDS). */
  seconds: number;
  pollMs?: number;
  heartbeatMs?: number;
  /** The client went away: stop polling. */
  signal?: AbortSignal;
}

const BATCH = 200;
const POLL_MS = 1000;
/** A comment this often when nothing else was sent: proxies keep an idle stream open and the client sees it alive. */
const HEARTBEAT_MS = 10_000;
/** The `retry:` hint sent at the end: how soon EventSource reconnects (resuming by its last id). */
const RETRY_MS = 1000;
/** After a failed read (Supabase unavailable), a slower reconnect. */
const RETRY_AFTER_FAILURE_MS = 5000;

/**
 * The recorded HubSpot sync events (public.hubspot_sync_events) as server-sent events, polled about
 * once a second for at most `seconds`, then ended with a `retry:` hint so EventSource reconnects
 * and resumes by Last-Event-ID. Why polling the recorded stream rather than a Durable Object
 * fanning events out: the table is the source of truth (written by triggers with the state change,
 * so nothing is missed between two polls), a reconnect resumes exactly by its cursor, and the
 * viewers are an operator console or two: one indexed read per second per viewer is cheap, and a
 * bounded stream keeps that polling bounded when a tab is left open.
 *
 * The first read happens before the stream is answered: Supabase unavailable then is the API's
 * ordinary 503 (with its code), not a stream that breaks at once.
 */
export async function openEventStream(
  deps: EventStreamDeps,
  opts: EventStreamOptions,
): Promise<ReadableStream<Uint8Array>> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = deps.now ?? Date.now;
  const pollMs = opts.pollMs ?? POLL_MS;
  const heartbeatMs = opts.heartbeatMs ?? HEARTBEAT_MS;
  let cursor = opts.after;
  let batch = await eventsAfter(deps.rpc, cursor, BATCH);
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const encoder = new TextEncoder();
  const write = (text: string) => writer.write(encoder.encode(text));

  const run = async () => {
    const deadline = now() + opts.seconds * 1000;
    let lastWrite = now();
    try {
      await write(`: HubSpot sync events after ${cursor}\n\n`);
      for (;;) {
        for (const e of batch) {
          await write(frame(e));
          cursor = e.seq;
          lastWrite = now();
        }
        if (now() >= deadline || opts.signal?.aborted) break;
        // A full batch means more are waiting (a reconnect after a busy minute): read on at once.
        if (batch.length < BATCH) {
          if (now() - lastWrite >= heartbeatMs) {
            await write(`: heartbeat ${new Date(now()).toISOString()}\n\n`);
            lastWrite = now();
          }
          await sleep(Math.min(pollMs, Math.max(0, deadline - now())));
          if (opts.signal?.aborted) break;
        }
        batch = await eventsAfter(deps.rpc, cursor, BATCH);
      }
      await write(`retry: ${RETRY_MS}\n: stream ends; reconnecting resumes after ${cursor}\n\n`);
    } catch (error) {
      // Supabase unavailable mid-stream, or the client gone (the write failed): end, asking for a
      // slower reconnect; the client resumes from the last id it received.
      const { code } = describe(error);
      await write(
        `retry: ${RETRY_AFTER_FAILURE_MS}\n: stream ended early (${code}); reconnecting resumes after ${cursor}\n\n`,
      ).catch(() => undefined);
    } finally {
      await writer.close().catch(() => undefined);
    }
  };
  void run();
  return readable;
}

/**
 * One event: `id:` the seq (EventSource's Last-Event-ID), `event:` its name, `data:` the row as
 * JSON on one line, with the event in words (`summary`).
 */
export function frame(e: RecordedSyncEvent): string {
  const data = {
    seq: e.seq,
    event: e.event,
    session_id: e.session_id,
    connection_id: e.connection_id,
    at: e.at,
    summary: summarise(e),
    ...e.data,
  };
  return `id: ${e.seq}\nevent: ${e.event}\ndata: ${JSON.stringify(data)}\n\n`;
}
