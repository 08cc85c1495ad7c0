import { Hono } from "hono";
import { publishEvents } from "../../../producers/publish";
import { eventFromWebhook } from "../../../producers/supabase-webhook";
import { bearerAuth } from "../auth";
import type { AppEnv } from "../context";
import { ok } from "../envelope";
import { readJson } from "../read-json";

/** Supabase sends one row per request; generous for wide rows, small enough to refuse abuse. */
export const WEBHOOK_BODY_LIMIT = 512 * 1024;

export const webhookRoutes = new Hono<AppEnv>()
  .use("/supabase", bearerAuth("WEBHOOK_SECRET"))
  .post("/supabase", async (c) => {
    const event = eventFromWebhook(await readJson(c, WEBHOOK_BODY_LIMIT), c.get("requestId"));
    await publishEvents(c.get("deps").queues, [event]);
    return ok(c, { eventId: event.id, entity: event.entity, op: event.op, version: event.version }, 202);
  });
