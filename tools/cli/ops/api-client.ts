import type { ApiResponse } from "../../../schemas/api-envelope";

export interface Connection {
  url: string;
  token: string;
  /**
   * Sent as `x-operator`: with the shared admin token the audit trail knows who acted only from
   * this. Null with an operator token and no name given: the token names the operator.
   */
  operator: string | null;
}

/** A request that failed, with the worker's stable code when it answered with the envelope. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: number | null,
    readonly code: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export type Api = <T>(method: "GET" | "POST", path: string, body?: unknown) => Promise<T>;

/** One function per worker: every call carries the token and the operator, and unwraps the envelope. */
export function createApi(connection: Connection, fetchImpl: typeof fetch = fetch): Api {
  const base = connection.url.replace(/\/+$/, "");
  return async <T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> => {
    let response: Response;
    try {
      response = await fetchImpl(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${connection.token}`,
          ...(connection.operator === null ? {} : { "x-operator": connection.operator }),
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      // Unreachable is worth retrying (the worker may be restarting); the caller decides.
      throw new ApiError(null, "UNREACHABLE", `cannot reach the worker at ${base}: ${(error as Error).message}`, true);
    }
    const envelope = (await response.json().catch(() => null)) as ApiResponse<T> | null;
    if (envelope?.success) return envelope.data as T;
    const error = envelope?.error;
    throw new ApiError(
      response.status,
      error?.code ?? `HTTP_${response.status}`,
      `${method} ${path} -> ${response.status}: ${error?.message ?? "the response is not the API envelope"}`,
      error?.retryable ?? response.status >= 500,
    );
  };
}

/** `?a=1&b=x` from the defined values, in the given order (so requests are predictable in tests and logs). */
export function queryString(params: Record<string, unknown>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
