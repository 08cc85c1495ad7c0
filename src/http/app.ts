import { Hono } from "hono";
import { ulid } from "ulid";
import type { AppEnv } from "./context";
import { fail } from "./envelope";
import { NotFoundError } from "../../core/errors";
import { consistencyRoutes, syncStatusRoutes } from "./routes/consistency";
import { emailRoutes } from "./routes/emails";
import { auditRoutes } from "./routes/audit";
import { failedTaskRoutes } from "./routes/failed-tasks";
import { failureGroupRoutes } from "./routes/failure-groups";
import { operatorTokenRoutes } from "./routes/operator-tokens";
import { replayJobRoutes, replayPlanRoutes } from "./routes/replays";
import { openApiDocument } from "./openapi";
import { accessKeysFromFetch, type AccessKeySource } from "../lib/access-jwt";
import { adminHealthRoutes, healthRoutes } from "./routes/health";
import { webhookRoutes } from "./routes/webhooks";
import { hubspotWebhookRoutes } from "./routes/hubspot-webhook";
import { hubspotSyncRoutes } from "./routes/hubspot-sync";
import { workerDeps } from "../wiring/deps";
import { consoleError } from "./console/error-page";
import { consoleRoutes } from "./console/routes";
import { hubspotConnectRoutes } from "./routes/hubspot-connect";
import { hubspotEventRoutes } from "./routes/hubspot-events";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** `accessKeys`: Cloudflare Access's signing keys (default: fetched from the team domain, cached per isolate). */
export function createApp(deps: { accessKeys?: AccessKeySource } = {}) {
  const accessKeys = deps.accessKeys ?? accessKeysFromFetch((input, init) => fetch(input, init));
  const app = new Hono<AppEnv>();
  app.use("*", async (c, next) => {
    c.set("accessKeys", accessKeys);
    c.set("deps", workerDeps(c.env));
    const incoming = c.req.header("x-request-id");
    c.set("requestId", incoming && REQUEST_ID.test(incoming) ? incoming : `req_${ulid()}`);
    c.set("startedAt", Date.now());
    await next();
    c.header("x-request-id", c.get("requestId"));
  });
  app.onError((error, c) => fail(c, error));
  app.notFound((c) => {
    const error = new NotFoundError(`no route for ${c.req.method} ${c.req.path}`);
    // Under /console a person is reading: the console's HTML page (its middleware, session check
    // and security headers included, have run by now), not the API's JSON.
    return c.req.path === "/console" || c.req.path.startsWith("/console/") ? consoleError(error, c) : fail(c, error);
  });
  app.route("/", healthRoutes);
  app.route("/webhooks/hubspot", hubspotWebhookRoutes);
  app.route("/webhooks", webhookRoutes);
  app.route("/v1/emails", emailRoutes);
  app.route("/v1/admin/failed-tasks", failedTaskRoutes);
  app.route("/v1/admin/failure-groups", failureGroupRoutes);
  app.route("/v1/admin/replay-plans", replayPlanRoutes);
  app.route("/v1/admin/replay-jobs", replayJobRoutes);
  app.route("/v1/admin/audit", auditRoutes);
  app.route("/v1/admin/health", adminHealthRoutes);
  app.route("/v1/admin/operator-tokens", operatorTokenRoutes);
  // The operator API's contract; public like any API reference (it holds no data).
  app.get("/v1/openapi.json", (c) => c.json(openApiDocument()));
  app.route("/v1/admin", consistencyRoutes);
  app.route("/v1/sync", syncStatusRoutes);
  // Connect first: the sync routes guard their whole group with adminAuth, and the OAuth callback
  // (a browser coming back from HubSpot, its signed state the only credential) must answer before.
  app.route("/v1/hubspot", hubspotConnectRoutes);
  // Its own auth; before the sync group, whose adminAuth covers all of /v1/hubspot/*.
  app.route("/v1/hubspot/events", hubspotEventRoutes);
  app.route("/v1/hubspot", hubspotSyncRoutes);
  app.route("/console", consoleRoutes);
  return app;
}
