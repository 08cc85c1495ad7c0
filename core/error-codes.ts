/**
 * The stable error codes, in one place: every code the system emits, whether as an HTTP answer
 * (the envelope's `error.code`) or only as a `failed_tasks.error_code` / a run report's problem.
 * The README table (`npm run docs:errors`) and the OpenAPI error responses are generated from it,
 * and test/node/error-codes.test.ts fails on a code thrown in the source that is not listed here.
 *
 * `status` is the HTTP status the code answers with; null for codes that are never an HTTP answer
 * (they are recorded, not thrown). `retryable` is what consumers and clients are told.
 */
export interface ErrorCodeSpec {
  status: number | null;
  retryable: boolean;
  meaning: string;
}

export const ERROR_CODES = {
  // Who is calling
  UNAUTHORIZED: {
    status: 401,
    retryable: false,
    meaning: "missing or wrong bearer token, an unknown operator token (or the secret is not configured)",
  },
  TOKEN_REVOKED: { status: 401, retryable: false, meaning: "the operator token was revoked: get a new one" },
  TOKEN_EXPIRED: {
    status: 401,
    retryable: false,
    meaning: "the operator token is past its `expires_at`: get a new one",
  },
  ACCESS_JWT_INVALID: {
    status: 401,
    retryable: false,
    meaning:
      "the Cloudflare Access JWT is forged, expired, for another application (aud) or team (iss), not RS256, or names nobody usable",
  },
  ACCESS_UNAVAILABLE: {
    status: 503,
    retryable: true,
    meaning: "Cloudflare Access's signing keys could not be fetched",
  },
  JSON_REQUIRED: {
    status: 415,
    retryable: false,
    meaning: "a change authenticated by an Access JWT was not sent as `application/json` (cross-site request guard)",
  },
  OPERATOR_MISMATCH: {
    status: 403,
    retryable: false,
    meaning:
      "`x-operator` names someone other than the operator token's owner (or the Access JWT's email); or a proven operator tried to create a token for someone else",
  },
  OPERATOR_TOKEN_REQUIRED: {
    status: 403,
    retryable: false,
    meaning: "`REQUIRE_OPERATOR_TOKENS=true` and a change was made with the shared `ADMIN_TOKEN` (nothing was changed)",
  },
  OPERATOR_REQUIRED: {
    status: 400,
    retryable: false,
    meaning:
      "an operator action (replay, group action, repairing reconcile, backfill, resolving regressions) with the shared admin token and without the `x-operator` header",
  },
  ALREADY_REVOKED: { status: 409, retryable: false, meaning: "revoke of a token that is already revoked" },

  // What was sent
  MALFORMED_JSON: { status: 400, retryable: false, meaning: "body empty or not JSON" },
  INVALID_PAYLOAD: {
    status: 400,
    retryable: false,
    meaning: "not a Supabase webhook payload (or, on `/webhooks/supabase/batch`, not a statement-capture payload)",
  },
  INVALID_REQUEST: {
    status: 400,
    retryable: false,
    meaning:
      "request fields invalid (the message names each field), e.g. an impossible or out-of-range timestamp, a NUL in text",
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    retryable: false,
    meaning:
      "request body over the route's limit (webhooks 512 KiB, the batch webhook 1 MiB, other routes 256 KiB); a chunked body without `Content-Length` is refused as soon as it passes the limit, not after it has been read",
  },
  EVENT_TOO_LARGE: {
    status: 413,
    retryable: false,
    meaning:
      "the event would exceed the 120 KiB queue message budget, counted in UTF-8 bytes of its JSON (70,000 Cyrillic characters are 140,000 bytes). The email API checks before writing anything, reserving room for the longest trace id, so an email it accepts can always be queued",
  },
  TOO_MANY_ROWS: {
    status: 413,
    retryable: false,
    meaning:
      "a statement-capture request carries more than 1,000 rows (nothing was queued): reinstall the triggers with a smaller `--batch-rows`",
  },
  UNKNOWN_TABLE: { status: 422, retryable: false, meaning: "webhook for a table that is not synced" },
  NOT_AUTHORITATIVE: { status: 422, retryable: false, meaning: "webhook for a table Supabase does not own (emails)" },
  SCHEMA_VIOLATION: {
    status: 422,
    retryable: false,
    meaning:
      "the row does not match the entity's schema (the message names each column; timestamps and text as above); also a reconciliation run's `problems` and `failed_tasks`, and a refresh replay of a contact HubSpot still holds in such a state (nothing sent, the task left open)",
  },
  IMPOSSIBLE_STATE: { status: 422, retryable: false, meaning: "e.g. `sent` without `sent_at`" },
  INVALID_EVENT: {
    status: 422,
    retryable: false,
    meaning: "an event envelope (queue message, outbox or change-log row) is not a valid event",
  },
  UNKNOWN_ENTITY: {
    status: 422,
    retryable: false,
    meaning: "an event or change-log entry names an entity the registry does not replicate",
  },
  WRONG_DIRECTION: {
    status: 422,
    retryable: false,
    meaning: "(in `failed_tasks`) an event would write an entity into its authoritative store",
  },
  NOT_REPLICATED: { status: 422, retryable: false, meaning: "a consistency check of an entity that has no replica" },
  EXTERNAL_AUTHORITY_UNSUPPORTED: {
    status: 422,
    retryable: false,
    meaning:
      "reconcile, backfill or resolving regressions of an entity whose authority is outside our stores (HubSpot contacts): they read the source back page by page, which is not supported for HubSpot-authoritative entities yet (a refresh replay re-reads single contacts from HubSpot)",
  },
  NOT_FOUND: {
    status: 404,
    retryable: false,
    meaning: "no such route, task, group, plan, job, email, entity or operator token",
  },

  // Conflicts with the current state
  INVALID_TRANSITION: {
    status: 409,
    retryable: false,
    meaning:
      "the status machine does not allow the move (`details.allowed` lists the moves); also HubSpot sync sessions and connections",
  },
  SESSION_ALREADY_ACTIVE: {
    status: 409,
    retryable: false,
    meaning: "a HubSpot sync session is already pending or running for this connection: resume it or wait for it",
  },
  VERSION_CONFLICT: { status: 409, retryable: false, meaning: "`expectedVersion` is stale (`details.currentVersion`)" },
  ALREADY_EXISTS: { status: 409, retryable: false, meaning: "email id already recorded" },
  DUPLICATE_MESSAGE_ID: { status: 409, retryable: false, meaning: "message id already recorded" },

  // Replay
  ALREADY_RESOLVED: { status: 409, retryable: false, meaning: "replay of a resolved or superseded task" },
  ALREADY_REPLAYING: {
    status: 409,
    retryable: false,
    meaning: "single replay of a task already sent and not settled yet: wait, or `override` if it is stuck",
  },
  QUARANTINED: { status: 409, retryable: false, meaning: "the task is quarantined: replay it with `override`" },
  JOB_ALREADY_RUNNING: { status: 409, retryable: false, meaning: "one job per queue" },
  PLAN_ALREADY_EXECUTED: { status: 409, retryable: false, meaning: "a plan runs once" },
  JOB_NOT_RUNNING: { status: 409, retryable: false, meaning: "cancel of a finished job" },
  NO_CHANGE: { status: 409, retryable: false, meaning: "group already in that status" },
  PLAN_EXPIRED: { status: 410, retryable: false, meaning: "plans expire after 24 h: plan again" },
  TASK_EXPIRED: {
    status: 410,
    retryable: false,
    meaning:
      "original replay of an upsert older than tombstone retention whose row neither the replica nor the source knows any more (it may have been deleted since): replay with `mode: refresh`",
  },
  NOTHING_TO_REPLAY: { status: 422, retryable: false, meaning: "empty selection (`details.quarantined_excluded`)" },
  PLAN_SPANS_QUEUES: {
    status: 422,
    retryable: false,
    meaning: "the selection spans both queues (add `queue`/`entity`)",
  },
  PLAN_TOO_LARGE: { status: 422, retryable: false, meaning: "over 100,000 tasks selected" },
  NOT_REPLAYABLE: { status: 422, retryable: false, meaning: "nothing to send for that task" },
  NOT_REPLAYABLE_STATUS: { status: 422, retryable: false, meaning: "resolved tasks selected" },
  RESTAMP_UNSUPPORTED: {
    status: 422,
    retryable: false,
    meaning:
      "resolving regressions of an entity authoritative in D1 (emails), whose versions grow by exactly one per write",
  },

  // Stores and queues (a consumer retries the retryable ones with backoff, dead-letters the rest)
  SUPABASE_UNAVAILABLE: {
    status: 503,
    retryable: true,
    meaning:
      "Supabase unreachable, overloaded, refusing connections or misconfigured (SQLSTATE classes 08, 28, 3D, 40, 53-58, XX; PostgREST PGRST0xx, 5xx, 429)",
  },
  SUPABASE_REJECTED: {
    status: 422,
    retryable: false,
    meaning: "Supabase refused the call for a reason not singled out below (another SQLSTATE, a PostgREST 4xx)",
  },
  FOREIGN_KEY_VIOLATION: {
    status: 422,
    retryable: false,
    meaning: "Postgres SQLSTATE 23503: the row references a row the replica lacks",
  },
  UNIQUE_VIOLATION: { status: 422, retryable: false, meaning: "Postgres SQLSTATE 23505" },
  CHECK_VIOLATION: { status: 422, retryable: false, meaning: "Postgres SQLSTATE 23514" },
  NOT_NULL_VIOLATION: { status: 422, retryable: false, meaning: "Postgres SQLSTATE 23502" },
  RAISED_BY_TRIGGER: {
    status: 422,
    retryable: false,
    meaning: "Postgres SQLSTATE P0001: a trigger or SQL function refused the write (e.g. the stage machine)",
  },
  DATA_EXCEPTION: {
    status: 422,
    retryable: false,
    meaning: "Postgres SQLSTATE class 22: a value the column cannot hold",
  },
  INVALID_ARGUMENT: { status: 422, retryable: false, meaning: "an RPC argument the postgres transport cannot pass" },
  D1_UNAVAILABLE: {
    status: 503,
    retryable: true,
    meaning: "a D1 call failed for a reason other than the data (network, overloaded, reset, timeout)",
  },
  D1_REJECTED: {
    status: 422,
    retryable: false,
    meaning: "D1 refused the write (constraint, type, trigger such as INVALID_TRANSITION / VERSION_NOT_BUMPED, schema)",
  },
  QUEUE_UNAVAILABLE: {
    status: 503,
    retryable: true,
    meaning: "the queue refused the event; nothing was lost on our side, retry the call",
  },
  CIRCUIT_OPEN: {
    status: 503,
    retryable: true,
    meaning: "a store failed repeatedly; calls to it pause until the circuit half-opens",
  },
  CONFIG_MISSING: {
    status: 503,
    retryable: true,
    meaning: "a binding or secret the call needs is not configured (messages wait for the fix)",
  },
  TOKEN_KEYS_INVALID: {
    status: 503,
    retryable: true,
    meaning:
      "`HUBSPOT_TOKEN_KEYS` is set but unusable (not `id:base64key` entries, a key that is not 32 bytes, an id twice); work waits for the fix",
  },
  TOKEN_KEY_UNKNOWN: {
    status: 500,
    retryable: false,
    meaning:
      "a HubSpot token is sealed with a key id `HUBSPOT_TOKEN_KEYS` no longer holds: put the key back, finish rotation, then remove it",
  },
  TOKEN_DECRYPT_FAILED: {
    status: 500,
    retryable: false,
    meaning:
      "a sealed HubSpot token does not open (AES-GCM authentication failed): altered ciphertext or iv, moved to another connection or column, or different key material under its key id",
  },
  INTERNAL: {
    status: 500,
    retryable: true,
    meaning: "an unexpected error at the HTTP edge (logged with the request id)",
  },

  // HubSpot (producers/hubspot/): its API as a dependency, and the webhooks it signs
  HUBSPOT_SIGNATURE_MISSING: {
    status: 401,
    retryable: false,
    meaning: "a HubSpot webhook without `X-HubSpot-Signature-v3` or `X-HubSpot-Request-Timestamp` (nothing was queued)",
  },
  HUBSPOT_SIGNATURE_STALE: {
    status: 401,
    retryable: false,
    meaning:
      "a HubSpot webhook whose `X-HubSpot-Request-Timestamp` is malformed or more than 5 minutes from now (a replay; nothing was queued)",
  },
  HUBSPOT_SIGNATURE_INVALID: {
    status: 401,
    retryable: false,
    meaning:
      "a HubSpot webhook whose v3 signature does not match its method, URI, body and timestamp (nothing was queued)",
  },
  HUBSPOT_AUTH_FAILED: {
    status: 502,
    retryable: false,
    meaning:
      "HubSpot refused our OAuth credentials: the authorization code or refresh token is invalid or revoked, or a fresh token is refused again. Reconnect the portal",
  },
  HUBSPOT_STATE_INVALID: {
    status: 400,
    retryable: false,
    meaning:
      "a HubSpot OAuth callback whose `state` is missing, malformed, not signed by this worker or unknown (nothing was saved): start the connect from the console or `GET /v1/hubspot/connect`",
  },
  HUBSPOT_STATE_USED: {
    status: 400,
    retryable: false,
    meaning: "a HubSpot OAuth callback whose `state` was already used (states are single use; nothing was saved)",
  },
  HUBSPOT_STATE_EXPIRED: {
    status: 400,
    retryable: false,
    meaning: "a HubSpot OAuth callback more than 10 minutes after its connect started (nothing was saved)",
  },
  HUBSPOT_AUTH_DECLINED: {
    status: 400,
    retryable: false,
    meaning:
      "HubSpot redirected back with an `error` instead of a code (the user declined or HubSpot refused the app; nothing was saved)",
  },
  HUBSPOT_REJECTED: {
    status: 502,
    retryable: false,
    meaning:
      "HubSpot answered 4xx (other than 401 and 429) to a request we built: a missing scope or a request HubSpot will not serve",
  },
  HUBSPOT_UNAVAILABLE: {
    status: 503,
    retryable: true,
    meaning:
      "HubSpot answered 5xx or 429 or could not be reached, and the client's own retries (with backoff, honouring `Retry-After`) ran out",
  },
  HUBSPOT_NOT_CONNECTED: {
    status: 409,
    retryable: false,
    meaning:
      "no HubSpot portal is connected (never connected, disconnected, or in `error` after HubSpot refused a token refresh): connect it again. Also how a refresh replay of a contact (or a plan's or job's decision) skips it, the task left as it was",
  },
  // Recorded only: failed_tasks and run reports, never an HTTP answer
  VERSION_CONTENT_CONFLICT: {
    status: null,
    retryable: false,
    meaning:
      '(in `failed_tasks`) the replica holds the event\'s version in another state: a restored or edited store; see "After a point-in-time restore"',
  },
  VERSION_REGRESSION: {
    status: null,
    retryable: false,
    meaning:
      "(in a reconciliation run's `problems`) the source holds a row below the replica's row or tombstone; (in `failed_tasks`) a stale event changed over 15 min after the newer row the replica holds",
  },
  NOT_APPLIED: {
    status: null,
    retryable: true,
    meaning: "(in `failed_tasks`) a write reported success but the replica does not hold the event's version",
  },
  RETRIES_EXHAUSTED: {
    status: null,
    retryable: true,
    meaning:
      "(in `failed_tasks`) Cloudflare dead-lettered the message after `max_retries` without our consumer recording why (it threw, timed out or was evicted)",
  },
  UNEXPECTED: {
    status: null,
    retryable: true,
    meaning: "(in `failed_tasks`) an error that is none of ours: treated as transient",
  },
} as const satisfies Record<string, ErrorCodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/** The catalogued spec of a code; undefined for a code the catalog does not know. */
export function errorCodeSpec(code: string): ErrorCodeSpec | undefined {
  return isErrorCode(code) ? ERROR_CODES[code] : undefined;
}
