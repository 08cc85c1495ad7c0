import { env } from "cloudflare:test";
import { createApp } from "../../src/http/app";
import { SECRETS } from "./helpers";

/**
 * The app with the real queue bindings wrapped to see what was sent (or to make the queue refuse),
 * and a POST helper for one route. `acceptCalls`: the queue takes that many send/sendBatch calls,
 * then refuses every call (default: all, or none with `refuse`).
 */
export function recordingQueues(opts: { refuse?: boolean; acceptCalls?: number; path?: string } = {}) {
  const sent: unknown[] = [];
  const sendBatchSizes: number[] = [];
  const acceptCalls = opts.refuse ? 0 : (opts.acceptCalls ?? Infinity);
  let calls = 0;
  const wrap = (q: Queue): Queue =>
    ({
      send: async (body: unknown, o?: QueueSendOptions) => {
        if (calls++ >= acceptCalls) throw new Error("Queue send failed: 503");
        sent.push(body);
        return q.send(body, o);
      },
      sendBatch: async (msgs: Iterable<MessageSendRequest>, o?: QueueSendBatchOptions) => {
        if (calls++ >= acceptCalls) throw new Error("Queue sendBatch failed: 503");
        const list = [...msgs];
        sendBatchSizes.push(list.length);
        for (const m of list) sent.push(m.body);
        return q.sendBatch(list, o);
      },
      metrics: async () => q.metrics(),
    }) as Queue;
  const bindings = { ...env, TO_D1: wrap(env.TO_D1), TO_SUPABASE: wrap(env.TO_SUPABASE) };
  const app = createApp();
  const post = async (
    body: string | unknown,
    headers: Record<string, string> = { authorization: `Bearer ${SECRETS.webhook}` },
  ) => {
    const res = await app.request(
      opts.path ?? "/webhooks/supabase",
      {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      },
      bindings,
      { waitUntil: () => {}, passThroughOnException: () => {}, props: {} } as unknown as ExecutionContext,
    );
    return { status: res.status, json: (await res.json()) as any };
  };
  return { sent, sendBatchSizes, post };
}
