/** @jsxImportSource hono/jsx */
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { describe, SyncError } from "../../../../core/errors";
import type { Connection } from "../../../../core/hubspot/connections";
import type { AppContext } from "../../context";
import { CONSOLE_CSP } from "../routes";
import { Layout } from "../layout";

export const HUBSPOT_PAGE = "/console/hubspot";

/**
 * The page HubSpot's redirect lands on. A page, not a redirect: the console's cookie is
 * SameSite=Strict, so a redirect chain that HubSpot's site started would reach the console without
 * it (the sign-in page). The meta refresh below is a navigation this worker's own page starts, so
 * the cookie goes along.
 */
export function callbackDone(c: AppContext, connection: Connection) {
  const next = `${HUBSPOT_PAGE}?connected=${encodeURIComponent(String(connection.portal_id))}`;
  secure(c);
  return c.html(
    <Layout title="HubSpot connected" refresh={1} refreshTo={next}>
      <section class="hubspot-callback" aria-labelledby="callback-title">
        <h2 id="callback-title">HubSpot portal {String(connection.portal_id)} connected</h2>
        <p>
          The tokens are stored encrypted. <a href={next}>Continue to the console's HubSpot page</a>.
        </p>
      </section>
    </Layout>,
  );
}

/** A refused callback: the stable code and what to do, nothing saved. */
export function callbackRefused(c: AppContext, error: unknown) {
  if (!(error instanceof SyncError))
    console.error(
      JSON.stringify({ msg: "hubspot callback failed", requestId: c.get("requestId"), error: String(error) }),
    );
  const info =
    error instanceof SyncError ? describe(error) : { code: "INTERNAL", message: "internal error", retryable: true };
  const status = (error instanceof SyncError ? error.status : 500) as ContentfulStatusCode;
  secure(c);
  return c.html(
    <Layout title="HubSpot not connected">
      <section class="hubspot-callback" aria-labelledby="callback-title">
        <h2 id="callback-title">HubSpot was not connected ({status})</h2>
        <p class="error" role="alert">
          <code>{info.code}</code>: {info.message}
        </p>
        <p>
          Nothing was saved. <a href={HUBSPOT_PAGE}>Start again from the console's HubSpot page</a>.
        </p>
        <p class="muted">Request id: {c.get("requestId")}</p>
      </section>
    </Layout>,
    status,
  );
}

function secure(c: AppContext) {
  c.header("content-security-policy", CONSOLE_CSP);
  c.header("x-content-type-options", "nosniff");
  // The URL carried the code and state: never hand it to another site.
  c.header("referrer-policy", "no-referrer");
  c.header("cache-control", "no-store");
}
