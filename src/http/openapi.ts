import { z } from "zod";
import { ERROR_CODES, type ErrorCodeSpec } from "../../core/error-codes";
import * as api from "../../schemas/operator-api";
import * as hubspotApi from "../../schemas/hubspot-api";
import { hubspotConnectionSchema, hubspotDisconnectedSchema } from "../../schemas/hubspot/connection";
import { SYNC_EVENT_NAMES } from "../../schemas/hubspot/sync-event";

/**
 * The operator API as an OpenAPI 3.1 document, generated from the same zod schemas the routes
 * validate with (and the tests parse responses with), so it cannot drift from the code.
 * Served at GET /v1/openapi.json.
 */
type Schema = z.ZodType;
interface Operation {
  summary: string;
  query?: z.ZodObject;
  body?: Schema;
  /** The `data` of a successful envelope. */
  response: Schema;
  /** Its status (200 when left out); several when the request decides (POST /v1/hubspot/sync). */
  status?: number | number[];
  /** Changes state: needs x-operator and is recorded in the audit trail. */
  change?: boolean;
}

function jsonSchema(schema: Schema, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<string, unknown>;
  return rest;
}

const list = (item: Schema, paged = false) =>
  z.object({ items: z.array(item), ...(paged ? { nextCursor: z.string().nullable() } : {}) });
const task = z.object({ task: api.failedTaskSchema, outcome: z.enum(["sent", "superseded"]) });
const groupDetail = z.object({ group: api.failureGroupSchema, examples: z.array(api.failedTaskSchema) });

const OPERATIONS: Record<string, Record<string, Operation>> = {
  "/v1/admin/failed-tasks": {
    get: {
      summary: "List failed tasks, newest first, filtered",
      query: api.listTasksQuery,
      response: list(api.failedTaskSchema, true),
    },
  },
  "/v1/admin/failed-tasks/{id}": {
    get: {
      summary: "A task with its full event and every failure, replay and outcome",
      response: api.taskDetailSchema,
    },
  },
  "/v1/admin/failed-tasks/{id}/replay": {
    post: {
      summary: "Replay one task now (superseded tasks are resolved without sending)",
      body: api.replayTaskBody,
      response: task,
      status: 202,
      change: true,
    },
  },
  "/v1/admin/failure-groups": {
    get: {
      summary: "Failure groups (same queue, entity, error code and message pattern)",
      query: api.listGroupsQuery,
      response: list(api.failureGroupSchema, true),
    },
  },
  "/v1/admin/failure-groups/{id}": { get: { summary: "A group with its newest tasks", response: groupDetail } },
  "/v1/admin/failure-groups/{id}/{action}": {
    post: {
      summary:
        "acknowledge | ignore | resolve | reopen a group (an ignored group stays quiet when new failures arrive)",
      body: api.groupActionBody,
      response: z.object({ group: api.failureGroupSchema }),
      change: true,
    },
  },
  "/v1/admin/replay-plans": {
    post: {
      summary: "Dry run: freeze a selection of tasks and say what replaying it would do",
      body: api.createPlanBody,
      response: z.object({ plan: api.planSchema }),
      status: 201,
      change: true,
    },
  },
  "/v1/admin/replay-plans/{id}": { get: { summary: "A plan", response: z.object({ plan: api.planSchema }) } },
  "/v1/admin/replay-jobs": {
    post: {
      summary: "Execute a plan as an asynchronous, rate-limited job (one running job per queue)",
      body: api.createJobBody,
      response: z.object({ job: api.jobSchema }),
      status: 202,
      change: true,
    },
    get: { summary: "Replay jobs, newest first", query: api.listJobsQuery, response: list(api.jobSchema) },
  },
  "/v1/admin/replay-jobs/{id}": {
    get: { summary: "A job's progress, and where its tasks stand now", response: z.object({ job: api.jobSchema }) },
  },
  "/v1/admin/replay-jobs/{id}/cancel": {
    post: {
      summary: "Cancel a running job; what was sent stays sent",
      body: api.cancelJobBody,
      response: z.object({ job: api.jobSchema }),
      change: true,
    },
  },
  "/v1/admin/audit": {
    get: {
      summary: "The audit trail of operator actions, newest first",
      query: api.listAuditQuery,
      response: list(api.auditEntrySchema, true),
    },
  },
  "/v1/admin/operator-tokens": {
    post: {
      summary:
        "Create a token for an operator; the response holds the token, once (an operator token may create tokens for its own operator only)",
      body: api.createOperatorTokenBody,
      response: api.createdOperatorTokenSchema,
      status: 201,
      change: true,
    },
    get: {
      summary: "Operator tokens, newest first (never a token or its hash)",
      query: api.listOperatorTokensQuery,
      response: list(api.operatorTokenSchema),
    },
  },
  "/v1/admin/operator-tokens/{id}/revoke": {
    post: {
      summary: "Revoke a token at once",
      body: api.revokeOperatorTokenBody,
      response: z.object({ token: api.operatorTokenSchema }),
      change: true,
    },
  },
  // GET /v1/hubspot/connect (a 302 to HubSpot) and its callback (an HTML page) are for browsers:
  // README "Connecting a HubSpot portal".
  "/v1/hubspot/connection": {
    get: {
      summary: "The HubSpot connection shown (connected, else the newest) and all of them; never a token",
      response: z.object({
        connection: hubspotConnectionSchema.nullable(),
        connections: z.array(hubspotConnectionSchema),
      }),
    },
  },
  "/v1/hubspot/disconnect": {
    post: {
      summary:
        "Disconnect a HubSpot portal: its tokens are erased (portal_id needed only when several are connected), then its refresh token is deleted at HubSpot; `revoked` says whether HubSpot did, `revoke_error` why not",
      body: api.hubspotDisconnectBody,
      response: hubspotDisconnectedSchema,
      change: true,
    },
  },
  // The HubSpot sync (src/http/routes/hubspot-sync.ts).
  "/v1/hubspot/contacts": {
    get: {
      summary:
        "HubSpot contacts as Supabase holds them, by id; filtered by email (exact, any case), sync status, updated since",
      query: hubspotApi.listHubSpotContactsQuery,
      response: hubspotApi.hubspotContactsPageSchema,
    },
  },
  "/v1/hubspot/sync": {
    post: {
      summary:
        "Start a HubSpot sync: incremental (run within the request, 200) or full (continued in steps by the control queue, 202); one in flight is SESSION_ALREADY_ACTIVE, none connected HUBSPOT_NOT_CONNECTED",
      body: hubspotApi.startHubSpotSyncBody,
      response: z.object({ session: hubspotApi.hubspotSessionSchema }),
      status: [200, 202],
      change: true,
    },
  },
  "/v1/hubspot/sync/status": {
    get: {
      summary:
        "The HubSpot connection shown (never a token), the latest sync session and the incremental high-water mark",
      response: hubspotApi.hubspotSyncStatusSchema,
    },
  },
  "/v1/hubspot/sessions": {
    get: {
      summary: "HubSpot sync sessions, newest first (`before`: the created_at of the last one seen)",
      query: hubspotApi.listHubSpotSessionsQuery,
      response: hubspotApi.hubspotSessionsPageSchema,
    },
  },
  "/v1/hubspot/sessions/{id}/errors/resolve": {
    post: {
      summary: "Mark a sync session's error_logs lines resolved (seed 002's flag), with a reason; audited",
      body: api.resolveSessionErrorsBody,
      response: z.object({ resolved: z.number().int().nonnegative() }),
      change: true,
    },
  },
};

/**
 * Endpoints answering a stream of server-sent events (text/event-stream) instead of the envelope;
 * a refusal before the stream starts (auth, a bad cursor, Supabase down) is the envelope as usual.
 */
const EVENT_STREAMS: Record<string, { summary: string; description: string; query: z.ZodObject; data: Schema }> = {
  "/v1/hubspot/events": {
    summary: 'The HubSpot sync\'s recorded progress events as server-sent events (README "Progress events and logs")',
    description:
      "Each event: `id:` its seq, `event:` sync:start | sync:progress | sync:complete | sync:error | connection:status, `data:` the JSON below. Resumes after Last-Event-ID, else `after`, else from the newest event. Polled about once a second; ends after HUBSPOT_EVENT_STREAM_SECONDS with a `retry:` hint so EventSource reconnects; comment lines are heartbeats.",
    query: hubspotApi.hubspotEventsQuery,
    data: z
      .object({
        seq: z.number().int(),
        event: z.enum(SYNC_EVENT_NAMES),
        session_id: z.uuid().nullable(),
        connection_id: z.uuid().nullable(),
        at: z.string(),
        summary: z.string(),
      })
      .catchall(z.unknown()),
  },
};

function streamOperation(s: (typeof EVENT_STREAMS)[string]) {
  const query = Object.entries((jsonSchema(s.query, "input").properties ?? {}) as Record<string, unknown>).map(
    ([name, schema]) => ({ name, in: "query", required: false, schema }),
  );
  const lastEventId = { name: "Last-Event-ID", in: "header", required: false, schema: { type: "string" } };
  return {
    summary: s.summary,
    description: s.description,
    parameters: [...query, lastEventId],
    responses: {
      "200": {
        description: "a stream of server-sent events; each `data:` line is this JSON",
        content: { "text/event-stream": { schema: jsonSchema(s.data, "output") } },
      },
      ...Object.fromEntries(
        ["400", "401", "503"].map((code) => [
          code,
          { $ref: `#/components/responses/E${code}`, description: ERRORS[code] },
        ]),
      ),
    },
  };
}

// What each error status means; the codes under it come from the catalog (core/error-codes.ts),
// so a new code shows up here without anyone remembering this file.
const STATUS_MEANING: Record<number, string> = {
  400: "Invalid request",
  401: "Missing or wrong admin or operator token, an operator token no longer valid, a Cloudflare Access JWT refused",
  403: "The caller is known but may not do this",
  404: "No such route, task, group, plan, job or operator token",
  409: "Conflicts with the current state",
  410: "Too old: the plan expired, or the task's original is too old to replay safely (use mode refresh)",
  413: "The request body or the event it makes is too large",
  415: "A change authenticated by a Cloudflare Access JWT was not sent as application/json",
  422: "Nothing sensible to do with it, or a store refused the data",
  500: "Unexpected error (logged with the request id); retry later",
  503: "A store, queue or dependency is unavailable; retry later",
};

const ERRORS: Record<string, string> = Object.fromEntries(
  [
    ...new Set(
      Object.values(ERROR_CODES as Record<string, ErrorCodeSpec>).flatMap((s) => (s.status === null ? [] : [s.status])),
    ),
  ]
    .sort((a, b) => a - b)
    .map((status) => {
      const codes = Object.entries(ERROR_CODES as Record<string, ErrorCodeSpec>)
        .filter(([, s]) => s.status === status)
        .map(([code]) => code);
      return [String(status), `${STATUS_MEANING[status] ?? "Error"} (${codes.join(", ")})`];
    }),
);

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const [path, methods] of Object.entries(OPERATIONS)) {
    const item: Record<string, unknown> = {};
    for (const [method, op] of Object.entries(methods)) {
      const pathParams = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({
        name: m[1],
        in: "path",
        required: true,
        schema: { type: "string" },
      }));
      const queryParams = op.query
        ? Object.entries((jsonSchema(op.query, "input").properties ?? {}) as Record<string, unknown>).map(
            ([name, schema]) => ({ name, in: "query", required: false, schema }),
          )
        : [];
      const header = op.change
        ? [
            {
              name: "x-operator",
              in: "header",
              required: false,
              description:
                "who is acting (recorded in the audit trail). Required with the shared admin token; with an operator token or an Access JWT the credential names the operator and a different name is refused (OPERATOR_MISMATCH)",
              schema: jsonSchema(api.operatorName, "input"),
            },
          ]
        : [];
      item[method] = {
        summary: op.summary,
        parameters: [...pathParams, ...queryParams, ...header],
        ...(op.body
          ? {
              requestBody: {
                required: true,
                content: { "application/json": { schema: jsonSchema(op.body, "input") } },
              },
            }
          : {}),
        responses: {
          ...Object.fromEntries(
            [op.status ?? 200].flat().map((status) => [
              String(status),
              {
                description: "success",
                content: { "application/json": { schema: envelope(jsonSchema(op.response, "output")) } },
              },
            ]),
          ),
          ...Object.fromEntries(
            Object.entries(ERRORS).map(([code, description]) => [
              code,
              { $ref: `#/components/responses/E${code}`, description },
            ]),
          ),
        },
      };
    }
    paths[path] = item;
  }
  for (const [path, stream] of Object.entries(EVENT_STREAMS)) paths[path] = { get: streamOperation(stream) };
  return {
    openapi: "3.1.0",
    info: {
      title: "supabase-d1-sync operator API",
      version: "1",
      description:
        "Failed tasks, failure groups, replay plans and jobs, operator tokens, and the audit trail. Every call carries a credential: an operator's own bearer token (sds_op_…) or a Cloudflare Access JWT, both of which prove who acts, or the shared ADMIN_TOKEN (break-glass; who acts is only claimed by x-operator; refused for changes under REQUIRE_OPERATOR_TOKENS).",
    },
    security: [{ operator: [] }, { access: [] }, { admin: [] }],
    paths,
    components: {
      securitySchemes: {
        operator: {
          type: "http",
          scheme: "bearer",
          description: "an operator token (sds_op_…) created with POST /v1/admin/operator-tokens; proves the operator",
        },
        access: {
          type: "apiKey",
          in: "header",
          name: "Cf-Access-Jwt-Assertion",
          description:
            "a Cloudflare Access JWT (when CF_ACCESS_TEAM_DOMAIN and CF_ACCESS_AUD are set and no Authorization header is sent); proves the operator by its email",
        },
        admin: {
          type: "http",
          scheme: "bearer",
          description: "the worker's shared ADMIN_TOKEN secret (break-glass, bootstrap)",
        },
      },
      schemas: {
        Meta: { type: "object", properties: { requestId: { type: "string" }, duration: { type: "number" } } },
        Error: {
          type: "object",
          required: ["success", "error"],
          properties: {
            success: { const: false },
            error: {
              type: "object",
              required: ["code", "message", "retryable"],
              properties: {
                code: { type: "string" },
                message: { type: "string" },
                retryable: { type: "boolean" },
                details: {},
              },
            },
            meta: { $ref: "#/components/schemas/Meta" },
          },
        },
      },
      responses: Object.fromEntries(
        Object.entries(ERRORS).map(([code, description]) => [
          `E${code}`,
          { description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
        ]),
      ),
    },
  };
}

function envelope(data: Record<string, unknown>) {
  return {
    type: "object",
    required: ["success", "data"],
    properties: { success: { const: true }, data, meta: { $ref: "#/components/schemas/Meta" } },
  };
}
