import { Hono } from "hono";
import { BATCH_WEBHOOK_BODY_LIMIT } from "../../../schemas/webhook-payload";
import { publishEvents } from "../../../producers/publish";
import { eventsFromBatch } from "../../../producers/supabase-batch-webhook";
import { eventFromWebhook } from "../../../producers/supabase-webhook";
import { bearerAuth } from "../auth";
import type { AppEnv } from "../context";
import { ok } from "../envelope";
import { readJson } from "../read-json";

/** Supabase sends one row per request; generous for wide rows, small enough to refuse abuse. */
export const WEBHOOK_BODY_LIMIT = 512 * 1024;

export const webhookRoutes = new Hono<AppEnv>()
  .use("/supabase", bearerAuth("WEBHOOK_SECRET"))
  .use("/supabase/batch", bearerAuth("WEBHOOK_SECRET"))
  .post("/supabase", async (c) => {
    const event = eventFromWebhook(await readJson(c, WEBHOOK_BODY_LIMIT), c.get("requestId"));
    await publishEvents(c.get("deps").queues, [event]);
    return ok(c, { eventId: event.id, entity: event.entity, op: event.op, version: event.version }, 202);
  })
  // Statement-level capture: one chunk of one statement's rows (sync.capture_statement). The valid
  // rows go out in sendBatch calls of at most 100; if the queue refuses one, the answer is 503
  // QUEUE_UNAVAILABLE and the calls already made stay queued (events are idempotent state, so a
  // resend is harmless; pg_net does not resend anyway, the change-log sweep delivers the rest).
  .post("/supabase/batch", async (c) => {
    const batch = eventsFromBatch(await readJson(c, BATCH_WEBHOOK_BODY_LIMIT), c.get("requestId"));
    await publishEvents(c.get("deps").queues, batch.events);
    if (batch.rejected.length || batch.skipped) {
      // The change-log sweep meets these rows too and records them in failed_tasks with the reason;
      // this line ties them to the request that carried them.
      console.warn(
        JSON.stringify({
          msg: "batch webhook: rows not queued",
          requestId: c.get("requestId"),
          entity: batch.entity,
          type: batch.type,
          chunk: batch.chunk,
          rejected: batch.rejected.slice(0, 20),
          rejectedCount: batch.rejected.length,
          skippedAsTooLarge: batch.skipped,
        }),
      );
    }
    return ok(
      c,
      {
        entity: batch.entity,
        type: batch.type,
        accepted: batch.events.length,
        rejected: batch.rejected,
        skipped: batch.skipped,
      },
      202,
    );
  });
