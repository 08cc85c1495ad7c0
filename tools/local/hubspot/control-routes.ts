import type { ServerResponse } from "node:http";
import type { OAuthState } from "./oauth-state";
import type { Portal } from "./portal";

/**
 * Not HubSpot: the stand-in's own controls over HTTP, under `/_standin/`, for callers that cannot
 * hold the stand-in object (tests in workerd, whose stand-in runs in vitest's global setup).
 * Off unless `controlRoutes` is set. What they change is what the object's methods change:
 *
 *   POST   /_standin/contacts           { properties }  → 201 the contact as HubSpot renders it
 *   PATCH  /_standin/contacts/:id       { properties }  → 200 (a change: updatedAt moves)
 *   DELETE /_standin/contacts/:id                       → 200 (archived)
 *   POST   /_standin/faults             { ...faults }   → 200 the faults now
 *   GET    /_standin/stats                             → 200 stats() (requests by route and status)
 *   POST   /_standin/oauth/expire-all                   → 204 (every access token expires now)
 *   POST   /_standin/oauth/revoke-all                   → 204 (refresh tokens stop working)
 */
export function controlRoute(
  deps: { portal: Portal; oauth: OAuthState; faults: object; stats: () => unknown },
  method: string,
  path: string,
  text: string,
  res: ServerResponse,
): boolean {
  if (!path.startsWith("/_standin/")) return false;
  let body: unknown;
  const props = () =>
    ((body as { properties?: Record<string, string | null> })?.properties ?? {}) as Record<string, string | null>;
  const contactId = /^\/_standin\/contacts\/(\d+)$/.exec(path)?.[1];
  const json = (status: number, value: unknown) =>
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
  try {
    body = JSON.parse(text || "{}");
    if (method === "POST" && path === "/_standin/contacts") json(201, render(deps.portal, deps.portal.create(props())));
    else if (method === "PATCH" && contactId) json(200, render(deps.portal, deps.portal.update(contactId, props())));
    else if (method === "DELETE" && contactId) json(200, render(deps.portal, deps.portal.archive(contactId)));
    else if (method === "GET" && path === "/_standin/stats") json(200, deps.stats());
    else if (method === "POST" && path === "/_standin/faults") json(200, Object.assign(deps.faults, body ?? {}));
    else if (method === "POST" && path === "/_standin/oauth/expire-all") {
      deps.oauth.expireAll();
      res.writeHead(204).end();
    } else if (method === "POST" && path === "/_standin/oauth/revoke-all") {
      deps.oauth.revokeRefreshTokens();
      res.writeHead(204).end();
    } else json(404, { message: `no stand-in control ${method} ${path}` });
  } catch (error) {
    json(400, { message: String(error) });
  }
  return true;
}

const render = (portal: Portal, contact: Parameters<Portal["render"]>[0]) =>
  portal.render(contact, ["email", "firstname", "lastname", "phone", "company"]);
