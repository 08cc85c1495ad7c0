/**
 * The worker's settings: wrangler vars with a default each, defined here once. wrangler.toml's
 * [vars] states the same values so a deployment shows what it runs with (test/settings.test.ts
 * checks they agree); the defaults still apply where a var is unset or unusable.
 */
export const SETTINGS = {
  /**
   * Change-log entries younger than this are left to the webhook path. The outbox sweep waits the
   * default (its fast path, the API's own publish, needs no tuning).
   */
  SWEEP_GRACE_SECONDS: setting(30, numberSetting),
  /**
   * Reconciliation leaves rows changed this recently alone: a source row is not repaired and a
   * replica row the source lacks is not deleted while it may still be in flight.
   */
  RECONCILE_GRACE_SECONDS: setting(300, numberSetting),
  /** Replays after which a task that fails again is quarantined until an operator overrides. */
  REPLAY_QUARANTINE_AFTER: setting(3, numberSetting),
  /** Days a resolved or superseded failed task keeps its event's row image (PII). */
  FAILED_TASK_PAYLOAD_RETENTION_DAYS: setting(30, numberSetting),
  /**
   * Hours the console's per-minute metrics are kept before the hourly cron sums them into hour rows
   * (the charts' last-hour view needs at least 1).
   */
  METRICS_MINUTE_RETENTION_HOURS: setting(2, numberSetting),
  /** Days the hourly metrics rows are kept (the charts' last-day view needs at least 1). */
  METRICS_HOUR_RETENTION_DAYS: setting(30, numberSetting),
  /** Days the HubSpot sync's sync_logs and error_logs lines are kept (sessions and the audit trail stay). */
  HUBSPOT_LOG_RETENTION_DAYS: setting(90, numberSetting),
  /** Changes through the admin API need an operator's own token; the shared ADMIN_TOKEN may only read. */
  REQUIRE_OPERATOR_TOKENS: setting(false, booleanSetting),
  /** HubSpot's API (OAuth tokens, CRM): its production host, or a local stand-in for dev and tests. */
  HUBSPOT_API_BASE: setting("https://api.hubapi.com", urlSetting),
  /** Where HubSpot users approve the app (`<base>/oauth/authorize`): production, or the stand-in. */
  HUBSPOT_AUTH_BASE: setting("https://app.hubspot.com", urlSetting),
  /**
   * Requests per 10 s we allow ourselves per portal, shared by every caller through D1: below
   * HubSpot's 100 for OAuth apps (150 / 190 on higher tiers), leaving room for network jitter.
   */
  HUBSPOT_RATE_LIMIT: setting(90, numberSetting),
  /** The cron runs an incremental HubSpot sync when the last sync session is this old. */
  HUBSPOT_INCREMENTAL_INTERVAL_SECONDS: setting(300, numberSetting),
  /** Pages of 100 contacts a full-sync step reads before it hands on to the next control-queue tick. */
  HUBSPOT_PAGES_PER_STEP: setting(50, numberSetting),
  /**
   * How long one GET /v1/hubspot/events stream stays open before it ends with a retry hint (the
   * client reconnects and resumes by its cursor): bounds how long one viewer polls Supabase.
   */
  HUBSPOT_EVENT_STREAM_SECONDS: setting(25, numberSetting),
};

export type SettingName = keyof typeof SETTINGS;
export type Settings = { [K in SettingName]: (typeof SETTINGS)[K]["default"] };

/** Each setting from its var, or its default. */
export function readSettings(vars: Partial<Record<SettingName, string>>): Settings {
  const entries = Object.entries(SETTINGS).map(([name, s]) => [name, s.read(vars[name as SettingName])]);
  return Object.fromEntries(entries) as Settings;
}

function setting<T>(fallback: T, parse: (value: string | undefined, fallback: T) => T) {
  return { default: fallback, read: (value: string | undefined) => parse(value, fallback) };
}

/** A numeric setting from a wrangler var: the fallback when unset, empty, negative or not a number. */
export function numberSetting(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value !== "" && Number.isFinite(n) && n >= 0 ? n : fallback;
}

/**
 * An http(s) base URL without its trailing slash; the fallback for anything else, so a typo in a
 * var cannot send tokens to a relative or non-HTTP address.
 */
export function urlSetting(value: string | undefined, fallback: string): string {
  const v = value?.trim().replace(/\/+$/, "");
  if (!v) return fallback;
  try {
    const { protocol } = new URL(v);
    return protocol === "https:" || protocol === "http:" ? v : fallback;
  } catch {
    return fallback;
  }
}

/** "true" / "false" (any case, spaces ignored); the fallback for anything else. */
export function booleanSetting(value: string | undefined, fallback: boolean): boolean {
  const v = value?.trim().toLowerCase();
  return v === "true" ? true : v === "false" ? false : fallback;
}
