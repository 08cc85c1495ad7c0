/** Bindings and settings of the worker, as declared in wrangler.toml and set as secrets. */
export interface Env {
  DB: D1Database;
  /** Supabase's Postgres through Hyperdrive (the default transport). */
  HYPERDRIVE?: Hyperdrive;
  TO_D1: Queue;
  TO_SUPABASE: Queue;
  TO_D1_DLQ: Queue;
  TO_SUPABASE_DLQ: Queue;
  /** Replay job ticks (consumers/control-queue.ts). */
  CONTROL: Queue;
  WEBHOOK_SECRET?: string;
  /** Shared operator secret: break-glass and bootstrap (operators get their own tokens, src/services/operator-tokens.ts). */
  ADMIN_TOKEN?: string;
  /** "true": changes through the admin API need an operator token; the shared ADMIN_TOKEN may only read (and manage operator tokens). */
  REQUIRE_OPERATOR_TOKENS?: string;
  /** Both set: a Cloudflare Access JWT (Cf-Access-Jwt-Assertion) proves the operator, e.g. `myteam.cloudflareaccess.com`. */
  CF_ACCESS_TEAM_DOMAIN?: string;
  /** The Access application's audience (AUD) tag. */
  CF_ACCESS_AUD?: string;
  /** Bearer token of the sending worker for the email API. */
  API_TOKEN?: string;
  /** "hyperdrive" (default) or "rest" (supabase-js .rpc() with the service-role key). */
  SUPABASE_TRANSPORT?: string;
  SUPABASE_URL?: string;
  /** Change-log entries younger than this are left to the webhook path (default 30). */
  SWEEP_GRACE_SECONDS?: string;
  /**
   * Reconciliation leaves rows changed this recently alone (default 300): a source row is not
   * repaired and a replica row the source lacks is not deleted while it may still be in flight.
   */
  RECONCILE_GRACE_SECONDS?: string;
  SUPABASE_SERVICE_ROLE_KEY?: string;
  /** Optional: POSTed to when a failure group opens (src/services/alerts.ts). */
  ALERT_WEBHOOK_URL?: string;
  /** Optional: signs alert bodies (x-sds-signature: hex HMAC-SHA256). */
  ALERT_WEBHOOK_SECRET?: string;
  /** Replays after which a task that fails again is quarantined (default 3). */
  REPLAY_QUARANTINE_AFTER?: string;
  /** Days a resolved or superseded failed task keeps its event's row image (default 30). */
  FAILED_TASK_PAYLOAD_RETENTION_DAYS?: string;
}
