import type { z } from "zod";
import {
  createJobBody,
  createOperatorTokenBody,
  createPlanBody,
  groupActionBody,
  listAuditQuery,
  listGroupsQuery,
  listJobsQuery,
  listOperatorTokensQuery,
  listTasksQuery,
  replayTaskBody,
} from "../../../schemas/operator-api";
import { queryString } from "./api-client";
import type { Options } from "./args";
import { UsageError } from "./usage-error";

/*
 * Flags → API requests. Each request is checked against the contract's own schema before it is
 * sent, so a typo (`--status opne`, a reason of one word) is a usage error here, not a 400 later,
 * and the CLI can never accept what the worker rejects.
 */

/** API field → the flag that sets it, where the names differ. */
const FLAG_OF: Record<string, string> = {
  error_code: "--code",
  rate_per_second: "--rate",
  plan_id: "--plan",
  expires_at: "--expires",
  operator: "<operator>",
};

function flagOf(path: readonly PropertyKey[]): string {
  const field = [...path].reverse().find((p): p is string => typeof p === "string" && p !== "filter");
  if (!field) return "the request";
  return FLAG_OF[field] ?? `--${field.replace(/_/g, "-")}`;
}

export function validate<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new UsageError(result.error.issues.map((issue) => `${flagOf(issue.path)}: ${issue.message}`).join("; "));
}

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `--since 2h` means two hours before now; anything else must be an ISO timestamp with an offset. */
export function pointInTime(value: string | undefined, now: Date): string | undefined {
  const relative = value?.match(/^(\d+)([smhd])$/);
  if (!relative) return value;
  return new Date(now.getTime() - Number(relative[1]) * UNIT_MS[relative[2] as keyof typeof UNIT_MS]).toISOString();
}

/** `--expires 90d` means ninety days from now; anything else must be an ISO timestamp with an offset. */
export function pointAhead(value: string | undefined, now: Date): string | undefined {
  const relative = value?.match(/^(\d+)([smhd])$/);
  if (!relative) return value;
  return new Date(now.getTime() + Number(relative[1]) * UNIT_MS[relative[2] as keyof typeof UNIT_MS]).toISOString();
}

/** The failed-task selection shared by `failed` and `plan`, in the API's names. */
export function taskFilter(options: Options, now: Date) {
  return {
    status: options.status,
    entity: options.entity,
    queue: options.queue,
    error_code: options.code,
    group: options.group,
    job: options.job,
    since: pointInTime(options.since, now),
    until: pointInTime(options.until, now),
    min_attempts: options["min-attempts"],
    max_attempts: options["max-attempts"],
  };
}

function withoutUndefined<T extends Record<string, unknown>>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function listTasksPath(options: Options, now: Date): string {
  const query = validate(
    listTasksQuery,
    withoutUndefined({ ...taskFilter(options, now), limit: options.limit, cursor: options.cursor }),
  );
  return `/v1/admin/failed-tasks${queryString(query)}`;
}

export function listGroupsPath(options: Options): string {
  const query = validate(
    listGroupsQuery,
    withoutUndefined({
      status: options.status,
      entity: options.entity,
      queue: options.queue,
      limit: options.limit,
      cursor: options.cursor,
    }),
  );
  return `/v1/admin/failure-groups${queryString(query)}`;
}

export function listJobsPath(options: Options): string {
  const query = validate(listJobsQuery, withoutUndefined({ status: options.status, limit: options.limit }));
  return `/v1/admin/replay-jobs${queryString(query)}`;
}

export function listAuditPath(options: Options, now: Date): string {
  const query = validate(
    listAuditQuery,
    withoutUndefined({
      actor: options.actor,
      auth: options.auth,
      action: options.action,
      target: options.target,
      since: pointInTime(options.since, now),
      until: pointInTime(options.until, now),
      limit: options.limit,
      cursor: options.cursor,
    }),
  );
  return `/v1/admin/audit${queryString(query)}`;
}

/** Mutations must say why (the audit trail keeps it): refuse before sending anything. */
export function requireReason(command: string, options: Options): string {
  if (options.reason === undefined)
    throw new UsageError(`${command} needs --reason "<why>" (it is recorded in the audit trail)`);
  return options.reason;
}

export function reasonBody(command: string, options: Options) {
  return validate(groupActionBody, { reason: requireReason(command, options) });
}

export function replayTaskRequest(options: Options) {
  return validate(
    replayTaskBody,
    withoutUndefined({ reason: requireReason("replay", options), mode: options.mode, override: options.override }),
  );
}

export function planRequest(options: Options, now: Date) {
  const ids = options.ids
    ?.split(",")
    .map((id) => id.trim())
    .filter(Boolean);
  return validate(
    createPlanBody,
    withoutUndefined({
      filter: withoutUndefined({ ...taskFilter(options, now), ids }),
      mode: options.mode,
      override: options.override,
      reason: options.reason,
    }),
  );
}

export function startJobRequest(planId: string, options: Options) {
  return validate(
    createJobBody,
    withoutUndefined({
      plan_id: planId,
      reason: requireReason("replay --plan", options),
      rate_per_second: options.rate === undefined ? undefined : Number(options.rate),
    }),
  );
}

/** `tokens create <operator> --reason R [--expires 90d]`. */
export function createTokenRequest(operator: string, options: Options, now: Date) {
  return validate(
    createOperatorTokenBody,
    withoutUndefined({
      operator,
      reason: requireReason("tokens create", options),
      expires_at: pointAhead(options.expires, now),
    }),
  );
}

/** `tokens list [<operator>] [--status S] [--limit N]`. */
export function listTokensPath(operator: string | undefined, options: Options): string {
  const query = validate(
    listOperatorTokensQuery,
    withoutUndefined({ operator, status: options.status, limit: options.limit }),
  );
  return `/v1/admin/operator-tokens${queryString(query)}`;
}
