import { routeQueueBatch } from "./queue";
import type { Env } from "./env";
import { createApp } from "./http/app";
import { runScheduled } from "./scheduled";

const app = createApp();

/** The worker: HTTP (webhooks, email API, operators), queue consumers and crons. Adapters only. */
export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  queue: (batch, env) => routeQueueBatch(batch, env),
  scheduled: (controller, env, ctx) => ctx.waitUntil(runScheduled(controller.cron, env)),
} satisfies ExportedHandler<Env>;
