import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { Portal, PortalError, type SearchBody, type WebhookEvent } from "./hubspot/portal";
import { controlRoute } from "./hubspot/control-routes";
import { OAuthState } from "./hubspot/oauth-state";
import { RollingWindow } from "./hubspot/rolling-window";
import { sendWebhook } from "./hubspot/webhook-sender";
import { seededRandom } from "./seeded-random";

/**
 * A local HubSpot, following HubSpot's published contract for what the sync uses (the README's
 * "HubSpot stand-in" section says which facts and where they were read): OAuth v1 authorize,
 * token (authorization_code, refresh_token) and refresh-token deletion, CRM v3 contacts list /
 * search / batch read, v3-signed webhooks, and the per-portal rate limit with its 429 answer. Faults can be injected, and it
 * counts requests and the most seen in any rate window, so a test can prove a budget was kept.
 */
export interface StandInOptions {
  port?: number;
  host?: string;
  /** Token expiry, rate windows and modification times read this clock (a test's fake one). */
  clock?: { now(): number };
  portalId?: number;
  clientId?: string;
  clientSecret?: string;
  /** Access token lifetime; HubSpot's is 1800 s. */
  tokenLifetimeSeconds?: number;
  /** Defaults: 100 requests / 10 s (OAuth apps), search 5 / s. */
  limits?: { general?: { limit: number; windowMs: number }; search?: { limit: number; windowMs: number } };
  /** Send Retry-After with a 429 (HubSpot documents X-HubSpot-RateLimit-* headers; see README). */
  retryAfterHeader?: boolean;
  /** Seeds the 5xx fault's randomness. */
  seed?: number;
  /** Serve the `/_standin/` controls (tools/local/hubspot/control-routes.ts): not HubSpot, for workerd tests. */
  controlRoutes?: boolean;
}

export interface StandInFaults {
  /** The next N API requests answer 429, whatever the budget. */
  rateLimitStorm: number;
  /** The share of API requests answering 503 (seeded, so a run repeats). */
  serverErrorRate: number;
  /** The next N API requests have their connection reset without an answer. */
  resetConnections: number;
  /** Real milliseconds every API answer waits (a slow HubSpot; tests must not time it). */
  slowMs: number;
  /** The next N refresh-token deletions (DELETE /oauth/v1/refresh-tokens/:token) answer 503, revoking nothing. */
  failRevocations: number;
}

export interface StandInStats {
  requests: number;
  byRoute: Record<string, number>;
  byStatus: Record<number, number>;
  throttled: number;
  /** The most API requests (refused ones included) that arrived within one general window. */
  maxInGeneralWindow: number;
  /** The same for search requests within one search window. */
  maxInSearchWindow: number;
}

export interface HubSpotStandIn {
  url: string;
  portal: Portal;
  oauth: OAuthState;
  faults: StandInFaults;
  stats(): StandInStats;
  clientId: string;
  clientSecret: string;
  /** POSTs the portal's pending webhook events (or `events`) to `url`, signed with v3. */
  deliverWebhooks(
    url: string,
    opts?: { events?: WebhookEvent[]; tamper?: Parameters<typeof sendWebhook>[0]["tamper"] },
  ): Promise<Response>;
  stop(): Promise<void>;
}

export async function startHubSpotStandIn(opts: StandInOptions = {}): Promise<HubSpotStandIn> {
  const clock = opts.clock ?? { now: () => Date.now() };
  const clientId = opts.clientId ?? "standin-client-id";
  const clientSecret = opts.clientSecret ?? "standin-client-secret";
  const portal = new Portal(opts.portalId ?? 62515, clock);
  const oauth = new OAuthState(clock, opts.tokenLifetimeSeconds ?? 1800);
  const general = new RollingWindow(opts.limits?.general?.limit ?? 100, opts.limits?.general?.windowMs ?? 10_000);
  const search = new RollingWindow(opts.limits?.search?.limit ?? 5, opts.limits?.search?.windowMs ?? 1_000);
  const random = seededRandom(opts.seed ?? 7);
  const faults: StandInFaults = {
    rateLimitStorm: 0,
    serverErrorRate: 0,
    resetConnections: 0,
    slowMs: 0,
    failRevocations: 0,
  };
  const counts = {
    requests: 0,
    throttled: 0,
    byRoute: {} as Record<string, number>,
    byStatus: {} as Record<number, number>,
  };

  const stats = (): StandInStats => ({
    ...counts,
    byRoute: { ...counts.byRoute },
    byStatus: { ...counts.byStatus },
    maxInGeneralWindow: general.maxObserved,
    maxInSearchWindow: search.maxObserved,
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://standin");
    const route = `${req.method} ${url.pathname}`;
    counts.requests++;
    counts.byRoute[route] = (counts.byRoute[route] ?? 0) + 1;
    res.once("finish", () => (counts.byStatus[res.statusCode] = (counts.byStatus[res.statusCode] ?? 0) + 1));
    const body = await readBody(req);

    if (opts.controlRoutes && controlRoute({ portal, oauth, faults, stats }, req.method ?? "", url.pathname, body, res))
      return;
    if (route === "GET /oauth/authorize") return authorize(url, res);
    if (route === "POST /oauth/v1/token") return token(new URLSearchParams(body), res);
    if (req.method === "DELETE" && url.pathname.startsWith(REFRESH_TOKENS)) {
      return revoke(decodeURIComponent(url.pathname.slice(REFRESH_TOKENS.length)), res);
    }
    if (req.method === "GET" && url.pathname.startsWith("/oauth/v1/access-tokens/")) {
      return tokenInfo(decodeURIComponent(url.pathname.slice("/oauth/v1/access-tokens/".length)), res);
    }

    const api = API_ROUTES[route];
    if (!api) return send(res, 404, errorBody("OBJECT_NOT_FOUND", `no route ${route}`));

    if (faults.resetConnections > 0) {
      faults.resetConnections--;
      req.socket.destroy();
      return;
    }
    if (faults.slowMs > 0) await new Promise((r) => setTimeout(r, faults.slowMs));

    const now = clock.now();
    const window = general.hit(now);
    const searchWindow = api === "search" ? search.hit(now) : undefined;
    res.setHeader("X-HubSpot-RateLimit-Max", String(general.limit));
    res.setHeader("X-HubSpot-RateLimit-Remaining", String(window.remaining));
    res.setHeader("X-HubSpot-RateLimit-Interval-Milliseconds", String(general.windowMs));
    const storm = faults.rateLimitStorm > 0;
    if (storm) faults.rateLimitStorm--;
    if (storm || !window.allowed || (searchWindow && !searchWindow.allowed)) {
      counts.throttled++;
      const waitMs = storm ? 1000 : Math.max(window.retryAfterMs, searchWindow?.retryAfterMs ?? 0);
      if (opts.retryAfterHeader ?? true) res.setHeader("Retry-After", String(Math.ceil(waitMs / 1000)));
      const policy = searchWindow && !searchWindow.allowed && window.allowed ? "SECONDLY" : "TEN_SECONDLY_ROLLING";
      return send(res, 429, {
        status: "error",
        message: `You have reached your ${policy.toLowerCase()} limit.`,
        errorType: "RATE_LIMIT",
        correlationId: randomUUID(),
        policyName: policy,
        requestId: randomUUID(),
      });
    }

    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const grant = bearer ? oauth.lookup(bearer) : undefined;
    if (!grant) {
      return send(res, 401, errorBody("INVALID_AUTHENTICATION", "Authentication credentials not found."));
    }
    if (grant.expiresAt <= now) {
      const minutes = Math.floor((now - grant.expiresAt) / 60_000);
      const message = `The OAuth token used to make this call expired ${minutes} minute(s) ago.`;
      return send(res, 401, errorBody("EXPIRED_AUTHENTICATION", message));
    }
    if (faults.serverErrorRate > 0 && random() < faults.serverErrorRate) {
      return send(res, 503, errorBody("INTERNAL_ERROR", "The service is temporarily unavailable (injected)."));
    }

    try {
      if (api === "list") {
        const properties = url.searchParams.get("properties")?.split(",").filter(Boolean);
        const page = portal.list({
          after: url.searchParams.get("after") ?? undefined,
          limit: Number(url.searchParams.get("limit") ?? 10),
          archived: url.searchParams.get("archived") === "true",
          properties,
        });
        return send(res, 200, page);
      }
      const json = parseJson(body);
      if (api === "search") return send(res, 200, portal.search(json as SearchBody));
      const input = json as { inputs?: Array<{ id: string }>; properties?: string[] };
      const { results, missing } = portal.batchRead(
        (input.inputs ?? []).map((i) => String(i.id)),
        url.searchParams.get("archived") === "true",
        input.properties,
      );
      const stamp = new Date(now).toISOString();
      const answer = { status: "COMPLETE", results, startedAt: stamp, completedAt: stamp };
      if (missing.length === 0) return send(res, 200, answer);
      return send(res, 207, {
        ...answer,
        numErrors: 1,
        errors: [
          {
            status: "error",
            category: "OBJECT_NOT_FOUND",
            message: "Could not get some CONTACT objects, they may be deleted or not exist.",
            context: { ids: missing },
          },
        ],
      });
    } catch (error) {
      if (error instanceof PortalError) return send(res, error.status, errorBody(error.category, error.message));
      throw error;
    }
  }

  function authorize(url: URL, res: ServerResponse): void {
    const redirectUri = url.searchParams.get("redirect_uri");
    if (url.searchParams.get("client_id") !== clientId || !redirectUri) {
      return send(res, 400, errorBody("VALIDATION_ERROR", "unknown client_id or missing redirect_uri"));
    }
    const target = new URL(redirectUri);
    const scopes = (url.searchParams.get("scope") ?? "").split(/[ +]/).filter(Boolean);
    target.searchParams.set("code", oauth.issueCode(redirectUri, scopes));
    const state = url.searchParams.get("state");
    if (state !== null) target.searchParams.set("state", state);
    res.writeHead(302, { location: target.toString() }).end();
  }

  // GET /oauth/v1/access-tokens/:token, HubSpot's token metadata: which portal (hub_id) and scopes.
  function tokenInfo(accessToken: string, res: ServerResponse): void {
    const grant = oauth.lookup(accessToken);
    if (!grant || grant.expiresAt <= clock.now()) {
      return send(res, 404, errorBody("NOT_FOUND", "The access token does not exist or has expired."));
    }
    send(res, 200, {
      token: accessToken,
      user: "dev@standin.local",
      hub_domain: `standin-${portal.portalId}.hubspot.local`,
      scopes: grant.scopes,
      hub_id: portal.portalId,
      app_id: 1,
      expires_in: Math.floor((grant.expiresAt - clock.now()) / 1000),
      user_id: 1,
      token_type: "access",
    });
  }

  // DELETE /oauth/v1/refresh-tokens/:token, HubSpot's "Delete a refresh token": no credentials
  // (the token is the proof), 204 without a body, 404 for a token it does not know.
  function revoke(refreshToken: string, res: ServerResponse): void {
    if (faults.failRevocations > 0) {
      faults.failRevocations--;
      return send(res, 503, errorBody("INTERNAL_ERROR", "The service is temporarily unavailable (injected)."));
    }
    if (!oauth.revoke(refreshToken)) return send(res, 404, errorBody("NOT_FOUND", "refresh token not found"));
    res.writeHead(204).end();
  }

  function token(form: URLSearchParams, res: ServerResponse): void {
    if (form.get("client_id") !== clientId || form.get("client_secret") !== clientSecret) {
      return send(res, 400, {
        status: "BAD_CLIENT_ID",
        message: "missing or invalid client_id / client_secret",
        correlationId: randomUUID(),
      });
    }
    let refreshToken: string | undefined;
    if (form.get("grant_type") === "authorization_code") {
      refreshToken = oauth.redeemCode(form.get("code") ?? "", form.get("redirect_uri") ?? "");
      if (!refreshToken) {
        return send(res, 400, {
          status: "BAD_AUTH_CODE",
          message: "missing or unknown auth code",
          correlationId: randomUUID(),
        });
      }
    } else if (form.get("grant_type") === "refresh_token") {
      refreshToken = form.get("refresh_token") ?? "";
    } else {
      return send(res, 400, {
        status: "BAD_GRANT_TYPE",
        message: "unsupported grant_type",
        correlationId: randomUUID(),
      });
    }
    const access = oauth.grantAccess(refreshToken);
    if (!access) {
      return send(res, 400, {
        status: "BAD_REFRESH_TOKEN",
        message: "missing or unknown refresh token",
        correlationId: randomUUID(),
      });
    }
    send(res, 200, {
      token_type: "bearer",
      refresh_token: refreshToken,
      access_token: access.accessToken,
      expires_in: access.expiresIn,
    });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, errorBody("INTERNAL_ERROR", String(error)));
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${opts.host ?? "127.0.0.1"}:${port}`,
    portal,
    oauth,
    faults,
    clientId,
    clientSecret,
    stats,
    deliverWebhooks: (target, o = {}) =>
      sendWebhook({
        url: target,
        events: o.events ?? portal.drainEvents(),
        clientSecret,
        nowMs: clock.now(),
        tamper: o.tamper,
      }),
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

const REFRESH_TOKENS = "/oauth/v1/refresh-tokens/";

const API_ROUTES: Record<string, "list" | "search" | "batchRead"> = {
  "GET /crm/v3/objects/contacts": "list",
  "POST /crm/v3/objects/contacts/search": "search",
  "POST /crm/v3/objects/contacts/batch/read": "batchRead",
};

/** HubSpot's error body: `{ status: "error", message, correlationId, category }`. */
function errorBody(category: string, message: string) {
  return { status: "error", message, correlationId: randomUUID(), category };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json;charset=utf-8" }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text || "{}");
  } catch {
    throw new PortalError(400, "VALIDATION_ERROR", "the body is not JSON");
  }
}

// `tsx tools/local/hubspot-standin.ts`: a stand-in with a generated portal, for `npm run dev`.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const standIn = await startHubSpotStandIn({ port: Number(process.env.HUBSPOT_STANDIN_PORT ?? 8790) });
  standIn.portal.generate(Number(process.env.HUBSPOT_STANDIN_CONTACTS ?? 1000));
  const tokens = standIn.oauth.connect();
  console.log(`HubSpot stand-in on ${standIn.url} (${standIn.portal.size} contacts)`);
  console.log(`  client_id=${standIn.clientId} client_secret=${standIn.clientSecret}`);
  console.log(`  access_token=${tokens.accessToken} refresh_token=${tokens.refreshToken}`);
  const stop = () => void standIn.stop().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
