import { assertEventFits, publishEvents, queueBindings } from "../../producers/publish";
import { eventFromWebhook } from "../../producers/supabase-webhook";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { requireBearer } from "../../src/lib/bearer";
import { poolIds, prospectRow } from "./rows";

/**
 * Profiling the webhook ingest path inside workerd, without HTTP: n webhook payloads (prospect
 * updates as Postgres renders them) through each piece of the route alone, and through the whole
 * worker.fetch in-process. Mean µs per webhook per piece. The events the "full" and "publish"
 * pieces send are real and valid: the to-d1 consumer applies them.
 */
export async function webhookCost(env: Env, n: number, secret: string) {
  const ids = poolIds(0xc0 * 0x100000, n);
  const bodies = ids.map((id, i) =>
    JSON.stringify({
      type: "UPDATE",
      table: "prospects",
      schema: "public",
      record: { ...prospectRow(id, i, 1), updated_at: "2025-03-01 09:00:01.5+00" },
      old_record: null,
    }),
  );
  const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
  const us = (ms: number) => Math.round((ms * 1000) / n);
  const time = async (fn: (i: number) => unknown) => {
    const started = performance.now();
    for (let i = 0; i < n; i++) await fn(i);
    return us(performance.now() - started);
  };
  const out: Record<string, number> = {};
  out["JSON.parse of the body"] = await time((i) => JSON.parse(bodies[i]!));
  out["bearer check (2 × SHA-256, constant-time compare)"] = await time(() =>
    requireBearer(`Bearer ${secret}`, secret),
  );
  out["eventFromWebhook (zod: payload + row schema, makeEvent)"] = await time((i) =>
    eventFromWebhook(JSON.parse(bodies[i]!), "t"),
  );
  const events = bodies.map((b) => eventFromWebhook(JSON.parse(b), "t"));
  out["assertEventFits (JSON.stringify + encode)"] = await time((i) => assertEventFits(events[i]!));
  // The three queue calls interleaved call by call, so that load elsewhere hits them alike.
  const queueCalls: Record<string, (i: number) => Promise<unknown>> = {
    "publishEvents (one event)": (i) => publishEvents(queueBindings(env), [events[i]!]),
    "queue.send alone (one event)": (i) => env.TO_D1.send(events[i]!, { contentType: "json" }),
    "queue.sendBatch alone (one event)": (i) => env.TO_D1.sendBatch([{ body: events[i]!, contentType: "json" }]),
  };
  const spent = Object.fromEntries(Object.keys(queueCalls).map((k) => [k, 0]));
  for (let i = 0; i < n; i++) {
    for (const [name, call] of Object.entries(queueCalls)) {
      const started = performance.now();
      await call(i);
      spent[name]! += performance.now() - started;
    }
  }
  for (const [name, ms] of Object.entries(spent)) out[name] = us(ms);
  out["full worker.fetch in-process (auth, route, validate, publish, response)"] = await time(async (i) => {
    const response = await worker.fetch!(
      new Request("http://bench/webhooks/supabase", {
        method: "POST",
        headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
        body: bodies[i],
      }),
      env,
      ctx,
    );
    if (response.status !== 202) throw new Error(`webhook answered ${response.status}: ${await response.text()}`);
    await response.arrayBuffer();
  });
  return { n, usPerWebhook: out };
}
