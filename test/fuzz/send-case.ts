import { jsonText } from "./odd-values";
import type { Auth, Body, Case, Pool } from "./cases";

/** Ids the run learnt from the worker's answers, for cases that refer to existing things. */
export interface Pools {
  email: Array<{ id: string; version: number }>;
  task: string[];
  group: string[];
  plan: string[];
  job: string[];
}

export const emptyPools = (): Pools => ({ email: [], task: [], group: [], plan: [], job: [] });

export interface Secrets {
  WEBHOOK_SECRET: string;
  API_TOKEN: string;
  ADMIN_TOKEN: string;
}

/** What one request did, as seen from outside plus the fuzz worker's per-request counters. */
export interface Observation {
  status: number;
  /** The request as sent (method, path with ids resolved). */
  request: string;
  requestId: string;
  code?: string;
  message?: string;
  retryable?: boolean;
  data?: unknown;
  /** Why the response is not the seeds' envelope, if it is not. */
  envelopeProblem?: string;
  queueSends: number;
  d1RowsWritten: number;
  d1Changes: number;
  /** fetch itself failed (no HTTP answer): counted with the 5xx. */
  transportError?: string;
  /** Attempts wrangler dev's own proxy lost before the worker answered (see sendCase). */
  devProxyRetries: number;
  ms: number;
}

/**
 * wrangler dev's ProxyWorker sometimes loses a request before our worker sees it and answers 503
 * "Your worker restarted mid-request" itself (no worker restarted), or drops the connection: after
 * a request whose body the worker did not read, and under a steady request cadence
 * (workers-sdk issues 15203 and 14641). Those answers carry none of the fuzz worker's headers, so
 * they provably never came from our worker; such a request is sent again (at most twice) and
 * counted apart. Anything our worker answers, 5xx included, is kept as it is.
 */
const DEV_PROXY_LOST = /^Your worker restarted mid-request/;
const MAX_DEV_PROXY_RETRIES = 2;

function lostByDevProxy(o: Observation, text: string | undefined): boolean {
  if (o.transportError) return /ECONNRESET|other side closed|socket hang up/i.test(o.transportError);
  return o.status === 503 && Number.isNaN(o.queueSends) && DEV_PROXY_LOST.test(text ?? "");
}

const PLACEHOLDER: Record<Pool, string> = {
  email: "0b6f7a51-2a3c-4b5d-8e9f-0a1b2c3d4e5f",
  task: "01ARZ3NDEKTSV4RRFFQ69G5FAV",
  group: "0123456789abcdef",
  plan: "01ARZ3NDEKTSV4RRFFQ69G5FAV",
  job: "01ARZ3NDEKTSV4RRFFQ69G5FAV",
};

function authHeader(auth: Auth, secret: string): string | undefined {
  switch (auth) {
    case "right":
      return `Bearer ${secret}`;
    case "wrong":
      return "Bearer not-the-secret";
    case "missing":
      return undefined;
    case "lowercase-scheme":
      return `bearer ${secret}`;
    case "extra-spaces":
      return `Bearer    ${secret}  `;
    case "basic":
      return `Basic ${Buffer.from(`x:${secret}`).toString("base64")}`;
    case "empty-token":
      return "Bearer ";
    case "other-secret":
      return `Bearer ${secret}x`;
  }
}

function bodyBytes(body: Body): Uint8Array<ArrayBuffer> | string | ReadableStream<Uint8Array> | undefined {
  switch (body.kind) {
    case "none":
      return undefined;
    case "chunked": {
      const bytes = new TextEncoder().encode(body.text);
      return new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 64 * 1024) controller.enqueue(bytes.slice(i, i + 64 * 1024));
          controller.close();
        },
      });
    }
    case "text":
      return body.text;
    case "bytes":
      return new Uint8Array(body.bytes);
    // Lone surrogates: JSON.stringify writes them as \udXXX escapes, which the worker's JSON.parse
    // turns back into lone surrogates (the interesting case), rather than UTF-8 replacement.
    case "json":
      return jsonText(body.value);
  }
}

export function secretFor(c: Case, secrets: Secrets): string {
  return c.target === "webhook"
    ? secrets.WEBHOOK_SECRET
    : c.target === "email"
      ? secrets.API_TOKEN
      : secrets.ADMIN_TOKEN;
}

/** Sends one case; never throws (a failed fetch is an observation too). */
export async function sendCase(
  c: Case,
  opts: { baseUrl: string; secrets: Secrets; pools: Pools; requestId: string; freshIds?: boolean },
): Promise<Observation> {
  for (let retries = 0; ; retries++) {
    const { observation, text } = await sendOnce(c, opts);
    observation.devProxyRetries = retries;
    if (retries >= MAX_DEV_PROXY_RETRIES || !lostByDevProxy(observation, text)) return observation;
  }
}

async function sendOnce(
  c: Case,
  opts: { baseUrl: string; secrets: Secrets; pools: Pools; requestId: string; freshIds?: boolean },
): Promise<{ observation: Observation; text?: string }> {
  let path = c.path;
  let body = opts.freshIds ? withFreshIds(c) : c.body;
  if (c.ref) {
    const list = opts.pools[c.ref.pool];
    const item = c.ref.raw === undefined && list.length > 0 ? list[c.ref.index % list.length]! : undefined;
    const id = c.ref.raw ?? (item === undefined ? PLACEHOLDER[c.ref.pool] : typeof item === "string" ? item : item.id);
    path = path.replace("{ref}", id);
    // PATCH /v1/emails/:id: the generated expectedVersion is a placeholder; send the email's real
    // version (or a deliberately stale one) so that valid changes really apply.
    if (c.versionDelta !== undefined && item && typeof item !== "string" && body.kind === "json") {
      const value = body.value as Record<string, unknown> | null;
      if (
        value &&
        typeof value === "object" &&
        Number.isInteger(value.expectedVersion) &&
        (value.expectedVersion as number) <= 1_000_000
      ) {
        body = { kind: "json", value: { ...value, expectedVersion: item.version + c.versionDelta } };
      }
    }
  }
  const sentId = c.requestId ?? opts.requestId;
  const headers: Record<string, string> = { "x-request-id": sentId };
  const authorization = authHeader(c.auth, secretFor(c, opts.secrets));
  if (authorization !== undefined) headers.authorization = authorization;
  if (c.contentType !== undefined) headers["content-type"] = c.contentType;
  if (c.operator !== undefined) headers["x-operator"] = c.operator;
  const request = `${c.method} ${path.length > 200 ? `${path.slice(0, 200)}…` : path}`;
  const started = Date.now();
  const base: Omit<Observation, "status" | "ms"> = {
    request,
    requestId: opts.requestId,
    queueSends: 0,
    d1RowsWritten: 0,
    d1Changes: 0,
    devProxyRetries: 0,
  };
  let response: Response;
  try {
    response = await fetch(`${opts.baseUrl}${path}`, {
      method: c.method,
      headers,
      body: c.method === "GET" || c.method === "HEAD" ? undefined : bodyBytes(body),
      signal: AbortSignal.timeout(120_000),
      // Required by Node's fetch for a stream body.
      ...(body.kind === "chunked" ? { duplex: "half" } : {}),
    } as RequestInit);
  } catch (error) {
    const cause = (error as Error).cause as { code?: string; message?: string } | undefined;
    return {
      observation: {
        ...base,
        status: 0,
        transportError: `${(error as Error).message}${cause ? ` (${cause.code ?? cause.message})` : ""}`,
        ms: Date.now() - started,
      },
    };
  }
  const text = await response.text();
  const observation: Observation = {
    ...base,
    status: response.status,
    queueSends: Number(response.headers.get("x-fuzz-queue-sends") ?? "NaN"),
    d1RowsWritten: Number(response.headers.get("x-fuzz-d1-rows-written") ?? "NaN"),
    d1Changes: Number(response.headers.get("x-fuzz-d1-changes") ?? "NaN"),
    ms: Date.now() - started,
  };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    observation.envelopeProblem = `not JSON: ${text.slice(0, 120)}`;
    return { observation, text };
  }
  observation.envelopeProblem = envelopeProblem(json, response.status, sentId);
  const envelope = json as { data?: unknown; error?: { code?: string; message?: string; retryable?: boolean } };
  observation.data = envelope.data;
  observation.code = envelope.error?.code;
  observation.message = envelope.error?.message;
  observation.retryable = envelope.error?.retryable;
  return { observation, text };
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
let freshCounter = 0;

/**
 * For replays while shrinking: the case's email was already created by its first run, so a
 * replay with the same `id` (or `message_id`) would only meet ALREADY_EXISTS. A fresh id, and the
 * message_id with a suffix, let the replay take the same path as the original did.
 */
function withFreshIds(c: Case): Body {
  if (c.target !== "email" || c.method !== "POST" || c.body.kind !== "json") return c.body;
  const value = c.body.value as Record<string, unknown> | null;
  if (!value || typeof value !== "object" || Array.isArray(value)) return c.body;
  const out: Record<string, unknown> = { ...value };
  if (typeof out.id === "string" && UUID.test(out.id)) out.id = crypto.randomUUID();
  if (typeof out.message_id === "string" && out.message_id.length > 0)
    out.message_id = `${out.message_id}~${++freshCounter}`;
  return { kind: "json", value: out };
}

/** The seeds' envelope: `{ success, data?, error?: { code, message, retryable }, meta: { requestId, duration } }`. */
function envelopeProblem(json: unknown, status: number, requestId: string): string | undefined {
  if (!json || typeof json !== "object" || Array.isArray(json)) return "not an object";
  const e = json as Record<string, unknown>;
  if (typeof e.success !== "boolean") return "success is not a boolean";
  if (e.success !== status < 400) return `success=${e.success} with HTTP ${status}`;
  const meta = e.meta as Record<string, unknown> | undefined;
  if (!meta || typeof meta.requestId !== "string" || typeof meta.duration !== "number")
    return "meta lacks requestId/duration";
  // app.ts echoes a well-formed x-request-id and generates one otherwise.
  const expected = REQUEST_ID.test(requestId) ? requestId : undefined;
  if (expected ? meta.requestId !== expected : !/^req_[0-9A-HJKMNP-TV-Z]{26}$/.test(meta.requestId)) {
    return `meta.requestId ${String(meta.requestId)} does not match the x-request-id sent (${requestId})`;
  }
  if (!e.success) {
    const error = e.error as Record<string, unknown> | undefined;
    if (
      !error ||
      typeof error.code !== "string" ||
      typeof error.message !== "string" ||
      typeof error.retryable !== "boolean"
    ) {
      return "error lacks code/message/retryable";
    }
  }
  return undefined;
}
