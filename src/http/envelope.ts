import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ApiResponse } from "../../schemas/api-envelope";
import { SyncError } from "../../core/errors";
import type { AppContext } from "./context";

function meta(c: AppContext) {
  return { requestId: c.get("requestId"), duration: Date.now() - c.get("startedAt") };
}

export function ok<T>(c: AppContext, data: T, status: ContentfulStatusCode = 200) {
  return c.json({ success: true, data, meta: meta(c) } satisfies ApiResponse<T>, status);
}

/** The one HTTP error edge: every failure leaves as the seeds' envelope with a stable code. */
export function fail(c: AppContext, error: unknown) {
  if (error instanceof SyncError) {
    return c.json(
      {
        success: false,
        error: {
          code: error.code,
          message: error.message,
          retryable: error.retryable,
          ...(error.details ? { details: error.details } : {}),
        },
        meta: meta(c),
      } satisfies ApiResponse<never>,
      error.status as ContentfulStatusCode,
    );
  }
  console.error(
    JSON.stringify({
      msg: "unhandled error",
      requestId: c.get("requestId"),
      error: String(error),
      stack: (error as Error)?.stack,
    }),
  );
  return c.json(
    {
      success: false,
      error: { code: "INTERNAL", message: "internal error", retryable: true },
      meta: meta(c),
    } satisfies ApiResponse<never>,
    500,
  );
}
