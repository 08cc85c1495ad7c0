/** @jsxImportSource hono/jsx */
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { describe, SyncError } from "../../../core/errors";
import type { AppContext } from "../context";
import { Layout } from "./layout";

/**
 * The console's error edge: an HTML page, never the API's JSON envelope, with the status kept and
 * the stable code, the message and whether retrying can help. No stack: it is logged, with the
 * request id shown here so the two can be matched. The security headers (CSP) are set by the
 * console's middleware, which runs after this.
 */
export function consoleError(error: unknown, c: AppContext) {
  const known = error instanceof SyncError;
  if (!known)
    console.error(
      JSON.stringify({
        msg: "unhandled console error",
        requestId: c.get("requestId"),
        error: String(error),
        stack: (error as Error)?.stack,
      }),
    );
  const info = known ? describe(error) : { code: "INTERNAL", message: "internal error", retryable: true };
  const status = (known ? error.status : 500) as ContentfulStatusCode;
  // A GET can simply be asked again; after a failed POST the operator goes back to the page.
  const again = c.req.method === "GET" ? c.req.path + (new URL(c.req.url).search ?? "") : "/console";
  return c.html(
    <Layout title={`Error ${status}`} session={c.get("consoleSession")}>
      <section class="error-page" aria-labelledby="error-title">
        <h2 id="error-title">Something went wrong ({status})</h2>
        <p class="error" role="alert">
          <code>{info.code}</code>: {info.message}
        </p>
        {info.retryable ? (
          <p>
            This is temporary (a store or dependency is unavailable): try again in a moment. <a href={again}>Retry</a>
          </p>
        ) : (
          <p>
            Retrying the same request will not help. <a href="/console">Back to the overview</a>
          </p>
        )}
        <p class="muted">Request id: {c.get("requestId")}</p>
      </section>
    </Layout>,
    status,
  );
}
