import { z } from "zod";
import { ENTITY_NAMES, QUEUES } from "./registry";
import { text, utcTimestamp, uuid } from "./fields";

/**
 * The operator API's contract (failed tasks, failure groups, replay plans and jobs, audit). The
 * HTTP routes validate with these schemas and the OpenAPI document is generated from them, so the
 * two cannot drift.
 */

/** open → replaying → resolved | superseded; a replay that fails again reopens (or quarantines). */
export const TASK_STATUSES = ["open", "replaying", "resolved", "superseded", "quarantined"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const GROUP_STATUSES = ["open", "acknowledged", "resolved", "ignored"] as const;
export type GroupStatus = (typeof GROUP_STATUSES)[number];
export const GROUP_ACTIONS = {
  acknowledge: "acknowledged",
  ignore: "ignored",
  resolve: "resolved",
  reopen: "open",
} as const;
export type GroupAction = keyof typeof GROUP_ACTIONS;

/** original: the event as it failed. refresh: the current row, re-read from the authoritative store. */
export const REPLAY_MODES = ["original", "refresh"] as const;
export type ReplayMode = (typeof REPLAY_MODES)[number];

export const JOB_STATUSES = ["running", "completed", "cancelled", "failed"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const AUDIT_ACTIONS = [
  "acknowledge",
  "ignore",
  "resolve",
  "reopen",
  "plan",
  "replay",
  "replay-task",
  "cancel",
  "override",
  "token-create",
  "token-revoke",
  "reconcile",
  "backfill",
  "resolve-regression",
  "hubspot-connect",
  "hubspot-disconnect",
  "hubspot-sync",
  "hubspot-errors-resolve",
] as const;
export const AUDIT_TARGET_TYPES = [
  "task",
  "group",
  "plan",
  "job",
  "operator-token",
  "entity",
  "hubspot-connection",
  "hubspot-session",
] as const;

/**
 * How the worker knew who acted. `admin-token`: the shared secret, the name is what `x-operator`
 * claimed. `operator-token`: the operator's own token proved it. `access-jwt`: a Cloudflare Access
 * JWT proved it (its email, or a service token's client id).
 */
export const AUTH_KINDS = ["admin-token", "operator-token", "access-jwt"] as const;
export type AuthKind = (typeof AUTH_KINDS)[number];

/** active until revoked or past expires_at. */
export const TOKEN_STATUSES = ["active", "revoked", "expired"] as const;

const ulid = () => z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, "must be a ULID");
export const groupId = () => z.string().regex(/^[0-9a-f]{16}$/, "must be a failure group id (16 hex digits)");
const workQueue = z.enum([QUEUES.toD1, QUEUES.toSupabase]);
const count = () => z.coerce.number().int().min(0).max(1_000_000);

/**
 * Who did it: sent as the `x-operator` header on every change. With the shared admin token the
 * caller names itself; with an operator token the token names it (a different x-operator is refused).
 */
export const operatorName = z
  .string()
  .regex(/^[A-Za-z0-9._@+:-]{1,100}$/, "must be 1-100 characters of letters, digits and ._@+:-");

/** Selects failed tasks. Query parameters for listing, a JSON object for plans. */
export const taskFilterSchema = z.object({
  status: z.enum(TASK_STATUSES).optional(),
  entity: z.enum(ENTITY_NAMES).optional(),
  queue: workQueue.optional(),
  error_code: z.string().min(1).max(64).optional(),
  group: groupId().optional(),
  /** Tasks the replay job last sent (e.g. "which of job X's tasks failed again"). */
  job: ulid().optional(),
  /** Last failure at or after this time. */
  since: utcTimestamp().optional(),
  /** Last failure before this time. */
  until: utcTimestamp().optional(),
  min_attempts: count().optional(),
  max_attempts: count().optional(),
});
export type TaskFilter = z.infer<typeof taskFilterSchema>;

export const listTasksQuery = taskFilterSchema.extend({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** Opaque: the `nextCursor` of the previous page. */
  cursor: ulid().optional(),
});
export type ListTasksQuery = z.infer<typeof listTasksQuery>;

export const listGroupsQuery = z.object({
  status: z.enum(GROUP_STATUSES).optional(),
  entity: z.enum(ENTITY_NAMES).optional(),
  queue: workQueue.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** Opaque: the `nextCursor` of the previous page (the last group's failure time and id). */
  cursor: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}T[\d:.]{8,15}Z~[0-9a-f]{16}$/, "must be the nextCursor of the previous page")
    .optional(),
});

const reason = text().trim().min(3, "say why (at least 3 characters)").max(500);

export const groupActionBody = z.object({ reason });

export const replayTaskBody = z.object({
  reason,
  mode: z.enum(REPLAY_MODES).default("original"),
  /** Required to replay a quarantined task, or one still replaying (sent, not settled yet). */
  override: z.boolean().default(false),
});

export const createPlanBody = z.object({
  filter: taskFilterSchema.extend({ ids: z.array(ulid()).min(1).max(10_000).optional() }).default({}),
  mode: z.enum(REPLAY_MODES).default("original"),
  /** Include quarantined tasks (they are excluded otherwise). Recorded as an override. */
  override: z.boolean().default(false),
  /** Optional here (a plan changes nothing); required when the plan is executed. */
  reason: reason.optional(),
});
export type CreatePlanBody = z.infer<typeof createPlanBody>;

export const DEFAULT_REPLAY_RATE = 50;
export const createJobBody = z.object({
  plan_id: ulid(),
  reason,
  /** Events sent per second. Replays share the work queue with live changes, so keep it modest. */
  rate_per_second: z.number().int().min(1).max(1000).default(DEFAULT_REPLAY_RATE),
});

export const cancelJobBody = z.object({ reason });

/** Version regressions (src/services/regressions.ts): what reconciliation found, and the deliberate fix. */
export const REGRESSION_STATUSES = ["open", "resolved"] as const;
export const listRegressionsQuery = z.object({
  entity: z.enum(ENTITY_NAMES).optional(),
  status: z.enum(REGRESSION_STATUSES).default("open"),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export const resolveRegressionsBody = z.object({
  entity: z.enum(ENTITY_NAMES),
  /** Default: every open regression of the entity (at most 1000 per call). */
  ids: z.array(uuid()).min(1).max(1000).optional(),
  reason,
});
export type ResolveRegressionsBody = z.infer<typeof resolveRegressionsBody>;
export const regressionSchema = z.object({
  entity: z.string(),
  id: z.string(),
  source_version: z.number().int(),
  replica_version: z.number().int(),
  replica_state: z.enum(["row", "tombstone"]),
  run_id: z.string().nullable(),
  first_seen_at: z.string(),
  last_seen_at: z.string(),
  status: z.enum(REGRESSION_STATUSES),
  resolved_at: z.string().nullable(),
  resolved_by: z.string().nullable(),
  resolved_version: z.number().int().nullable(),
});
export type Regression = z.infer<typeof regressionSchema>;

/**
 * POST /v1/admin/reconcile, the CLI's `reconcile` and the console's reconcile form: one schema, so
 * all three accept exactly the same requests. `reason` is optional (the cron reconciles without
 * one) and kept in the audit line of a repairing run.
 */
export const reconcileBody = z.object({
  entity: z.string().optional(),
  repair: z.boolean().default(true),
  maxRows: z.number().int().min(1).max(1_000_000).optional(),
  after: uuid().nullable().optional(),
  until: uuid().nullable().optional(),
  reason: z.string().trim().min(3).max(500).optional(),
});
export type ReconcileBody = z.infer<typeof reconcileBody>;

/** POST /v1/admin/backfill/:entity, the CLI's `backfill` and the console's backfill form. */
export const backfillBody = z.object({
  maxRows: z.number().int().min(1).max(100_000).optional(),
  restart: z.boolean().optional(),
  reason: z.string().trim().min(3).max(500).optional(),
});
export type BackfillBody = z.infer<typeof backfillBody>;

export const listJobsQuery = z.object({
  status: z.enum(JOB_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(20),
});

export const listAuditQuery = z.object({
  actor: operatorName.optional(),
  /** Only lines whose actor was proven (operator-token, access-jwt) or only claimed (admin-token). */
  auth: z.enum(AUTH_KINDS).optional(),
  action: z.enum(AUDIT_ACTIONS).optional(),
  target: z.string().max(64).optional(),
  since: utcTimestamp().optional(),
  until: utcTimestamp().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: ulid().optional(),
});

export const createOperatorTokenBody = z.object({
  /** The operator the token will prove. */
  operator: operatorName,
  reason,
  /** Optional: the token is refused from then on (TOKEN_EXPIRED). Must lie in the future. */
  expires_at: utcTimestamp().optional(),
});

export const revokeOperatorTokenBody = z.object({ reason });

/** POST /v1/hubspot/disconnect (and the console's form). portal_id: needed only with several portals. */
export const hubspotDisconnectBody = z.object({
  reason,
  portal_id: z.coerce.number().int().positive().optional(),
});

/** POST /v1/hubspot/sessions/:id/errors/resolve (and the console's form). */
export const resolveSessionErrorsBody = z.object({ reason });

export const listOperatorTokensQuery = z.object({
  operator: operatorName.optional(),
  status: z.enum(TOKEN_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(100),
});

/* Responses. Tests parse real responses with these, so the OpenAPI document stays true. */

const at = z.string().describe("UTC ISO 8601");
const nullableAt = at.nullable();

export const failedTaskSchema = z.object({
  id: ulid(),
  queue: workQueue,
  event_id: z.string(),
  entity: z.string().nullable(),
  row_id: z.string().nullable(),
  op: z.string().nullable(),
  group_id: z.string().nullable(),
  error_code: z.string(),
  error_message: z.string(),
  retryable: z.boolean(),
  attempts: z.number().int(),
  failure_count: z.number().int(),
  replay_count: z.number().int(),
  status: z.enum(TASK_STATUSES),
  first_failed_at: at,
  last_failed_at: at,
  last_replayed_at: nullableAt,
  last_job_id: z.string().nullable(),
  resolved_at: nullableAt,
});
export type FailedTask = z.infer<typeof failedTaskSchema>;

/** One line of a task's history: each failure, each replay and how it ended. */
export const taskHistoryEntrySchema = z.object({
  at,
  kind: z.enum(["failure", "replay", "resolved", "superseded", "quarantined"]),
  job_id: z.string().nullable(),
  actor: z.string().nullable(),
  mode: z.enum(REPLAY_MODES).nullable(),
  error_code: z.string().nullable(),
  error_message: z.string().nullable(),
  message_id: z.string().nullable(),
});

export const taskDetailSchema = z.object({
  task: failedTaskSchema.extend({
    event: z.unknown(),
    event_redacted_at: nullableAt.describe(
      "when payload retention removed the event's row image (the envelope and history stay)",
    ),
  }),
  history: z.array(taskHistoryEntrySchema),
});

export const failureGroupSchema = z.object({
  id: z.string(),
  entity: z.string().nullable(),
  queue: z.string(),
  error_code: z.string(),
  message_pattern: z.string(),
  status: z.enum(GROUP_STATUSES),
  failures: z.number().int().describe("failures recorded, replays that failed again included"),
  tasks: z.number().int(),
  open_tasks: z.number().int().describe("tasks still needing attention: open, replaying or quarantined"),
  first_seen_at: at,
  last_seen_at: at,
  status_changed_at: nullableAt,
  status_changed_by: z.string().nullable(),
  status_reason: z.string().nullable(),
});
export type FailureGroup = z.infer<typeof failureGroupSchema>;

export const planSchema = z.object({
  id: ulid(),
  queue: workQueue,
  mode: z.enum(REPLAY_MODES),
  override: z.boolean(),
  filter: z.record(z.string(), z.unknown()),
  /** Tasks frozen into the plan: exactly these are replayed when it is executed. */
  total: z.number().int(),
  /** Of those, already superseded now: the replica holds the same or a newer version. Resolved without sending. */
  superseded: z.number().int(),
  to_send: z.number().int(),
  /** Would be left alone, e.g. refresh mode and the source holds no such row any more. */
  skipped: z.number().int(),
  /** Quarantined tasks the filter matched but the plan left out (set override to include them). */
  quarantined_excluded: z.number().int(),
  /** Tasks the filter matched that are still replaying (outcome not known yet); select status replaying to include them. */
  replaying_excluded: z.number().int(),
  by_entity: z.record(z.string(), z.number().int()),
  by_error: z.record(z.string(), z.number().int()),
  created_at: at,
  created_by: z.string(),
  expires_at: at,
  job_id: z.string().nullable(),
});
export type Plan = z.infer<typeof planSchema>;

export const jobSchema = z.object({
  id: ulid(),
  plan_id: ulid(),
  queue: workQueue,
  mode: z.enum(REPLAY_MODES),
  status: z.enum(JOB_STATUSES),
  override: z.boolean(),
  rate_per_second: z.number().int(),
  total: z.number().int(),
  /** Events sent to the work queue. */
  sent: z.number().int(),
  /** Resolved without sending: the replica already held the same or a newer version. */
  superseded: z.number().int(),
  /** Left alone: resolved meanwhile, quarantined without override, or no longer at the source. */
  skipped: z.number().int(),
  remaining: z.number().int(),
  reason: z.string(),
  created_by: z.string(),
  created_at: at,
  started_at: nullableAt,
  finished_at: nullableAt,
  cancelled_by: z.string().nullable(),
  last_error: z.string().nullable(),
  /** Where the job's tasks stand now (the consumers resolve sent ones as they apply). */
  tasks: z.partialRecord(z.enum(TASK_STATUSES), z.number().int()).optional(),
});
export type Job = z.infer<typeof jobSchema>;

export const auditEntrySchema = z.object({
  id: ulid(),
  at,
  actor: z.string(),
  action: z.enum(AUDIT_ACTIONS),
  /** How the actor was known: proven by an operator token or an Access JWT, or claimed with the shared admin token. */
  auth: z.enum(AUTH_KINDS),
  /** The operator token that proved the actor (null with the admin token). */
  token_id: z.string().nullable(),
  reason: z.string().nullable(),
  target_type: z.enum(AUDIT_TARGET_TYPES),
  target_id: z.string(),
  selection: z.unknown().describe("what the action selected: a filter, a plan's counts"),
  result: z.unknown(),
});

/** An operator token as listed: never its secret, never its hash. */
export const operatorTokenSchema = z.object({
  id: ulid(),
  operator: z.string(),
  status: z.enum(TOKEN_STATUSES),
  created_at: at,
  created_by: z.string(),
  expires_at: nullableAt,
  last_used_at: nullableAt.describe("refreshed at most once a minute"),
  revoked_at: nullableAt,
  revoked_by: z.string().nullable(),
});
export type OperatorToken = z.infer<typeof operatorTokenSchema>;

export const createdOperatorTokenSchema = z.object({
  token: operatorTokenSchema,
  /** The token itself (`sds_op_…`). Shown here once: the worker keeps only its SHA-256. */
  secret: z.string(),
});
