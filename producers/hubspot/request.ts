import { TransientError, ValidationError } from "../../core/errors";
import type { AccessTokens } from "./oauth";
import type { Clock, RateBudget, RateKind } from "./rate-budget";

export interface RetryOptions {
  /** Attempts per request, the first included. After them a retryable error goes to the caller's queue retry. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not slept in a worker: the error carries it to the queue retry. */
  maxSleepMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { maxAttempts: 8, baseDelayMs: 500, maxDelayMs: 30_000, maxSleepMs: 60_000 };

export interface HubSpotDeps {
  fetch: typeof fetch;
  clock: Clock;
  budget: RateBudget;
  tokens: AccessTokens;
  /** https://api.hubapi.com, or the local stand-in. */
  baseUrl: string;
  retry?: Partial<RetryOptions>;
  /** Jitter for backoff, [0, 1). */
  random?: () => number;
}

export interface HubSpotRequest {
  method: "GET" | "POST";
  path: string;
  body?: unknown;
  kind?: RateKind;
}

/** HubSpot's error body (developers.hubspot.com, "API usage guidelines" / error handling). */
interface HubSpotErrorBody {
  status?: string;
  message?: string;
  category?: string;
  correlationId?: string;
  policyName?: string;
}

/**
 * One HubSpot API call with everything around it: a token from the portal's shared budget before
 * every attempt (retries included, so a 429 storm cannot push us over the budget), the access
 * token, one renewal after a 401, and retries with backoff on 429, 5xx and network failures.
 * Retry-After is honoured when HubSpot sends it. (Apps using OAuth have no daily limit, only the
 * 10-second one: HubSpot's changelog "Rate limit headers will now appear for OAuth authenticated calls".)
 */
export async function hubspotRequest<T>(deps: HubSpotDeps, req: HubSpotRequest): Promise<T> {
  const retry = { ...DEFAULT_RETRY, ...deps.retry };
  const random = deps.random ?? Math.random;
  let renewed = false;
  for (let attempt = 1; ; attempt++) {
    let failure: { message: string; retryAfterMs?: number; cause?: unknown };
    try {
      // The token first (a refresh is a round trip), the general budget last: the request must
      // leave when its token is granted, or requests granted a window apart could arrive closer.
      const token = await deps.tokens.current();
      if (req.kind === "search") await deps.budget.acquire("search");
      await deps.budget.acquire("general");
      const answer = await send(deps, req, token);
      if ("networkError" in answer)
        throw new TransientError("HUBSPOT_UNAVAILABLE", answer.networkError.message, answer.networkError);
      const { res, text } = answer;
      if (res.ok) return JSON.parse(text) as T;
      const body = parseErrorBody(text);
      const what = `HubSpot ${req.method} ${req.path} answered ${res.status}${describeBody(body)}`;
      if (res.status === 401) {
        if (renewed) throw new ValidationError("HUBSPOT_AUTH_FAILED", `${what}, even with a renewed token`);
        await deps.tokens.renew(token); // current() answers the renewed token from now on
        renewed = true;
        attempt--; // the renewal's retry is not one of the backoff attempts
        continue;
      }
      if (res.status !== 429 && res.status < 500) throw new ValidationError("HUBSPOT_REJECTED", what, body);
      failure = { message: what, retryAfterMs: retryAfterMs(res.headers, deps.clock.now()), cause: body };
    } catch (error) {
      // A connection that failed or was reset, or a token refresh that could not reach HubSpot.
      if (!(error instanceof TransientError)) throw error;
      failure = { message: `HubSpot ${req.method} ${req.path} failed: ${error.message}`, cause: error };
    }
    const waitMs = failure.retryAfterMs ?? backoffMs(retry, attempt, random());
    if (attempt >= retry.maxAttempts || waitMs > retry.maxSleepMs) {
      const seconds = Math.ceil(waitMs / 1000);
      throw new TransientError(
        "HUBSPOT_UNAVAILABLE",
        `${failure.message} (attempt ${attempt})`,
        failure.cause,
        seconds,
      );
    }
    await deps.clock.sleep(waitMs);
  }
}

/** The answer and its body, or the network failure (fetch rejects with a TypeError; so can reading the body). */
async function send(
  deps: HubSpotDeps,
  req: HubSpotRequest,
  token: string,
): Promise<{ res: Response; text: string } | { networkError: Error }> {
  try {
    const res = await deps.fetch(`${deps.baseUrl}${req.path}`, {
      method: req.method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
    });
    return { res, text: await res.text() };
  } catch (error) {
    return { networkError: error instanceof Error ? error : new Error(String(error)) };
  }
}

/** Exponential backoff with full jitter, at least the base delay. */
function backoffMs(retry: RetryOptions, attempt: number, jitter: number): number {
  const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(retry.baseDelayMs + jitter * (ceiling - retry.baseDelayMs));
}

/** Retry-After in seconds or as an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(headers: Headers, nowMs: number): number | undefined {
  const value = headers.get("retry-after")?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

function parseErrorBody(text: string): HubSpotErrorBody {
  try {
    const json = JSON.parse(text) as unknown;
    return json && typeof json === "object" ? (json as HubSpotErrorBody) : {};
  } catch {
    return {};
  }
}

function describeBody(body: HubSpotErrorBody): string {
  const parts = [
    body.category ?? body.policyName,
    body.message,
    body.correlationId && `correlationId ${body.correlationId}`,
  ];
  const text = parts.filter(Boolean).join(", ");
  return text ? ` (${text.slice(0, 300)})` : "";
}
