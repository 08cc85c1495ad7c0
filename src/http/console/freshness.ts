import type { syncStatus } from "../../services/sync-status";

export type SyncStatus = Awaited<ReturnType<typeof syncStatus>>;
export type EntityStatus = SyncStatus["entities"][number];

/** The product brief's thresholds (seed 003): fresh under 2 min, stale to 10 min, very stale beyond. */
export const FRESHNESS_SECONDS = { stale: 120, veryStale: 600 } as const;

export type Freshness = "fresh" | "stale" | "very-stale" | "warning" | "error" | "no-replica";

export const FRESHNESS_LABEL: Record<Freshness, string> = {
  fresh: "Fresh",
  stale: "Stale",
  "very-stale": "Very stale",
  warning: "Warning",
  error: "Error",
  "no-replica": "No replica",
};

/**
 * How far behind the replica may be: the age of the oldest change not yet sent (the change log for
 * Supabase-authoritative entities, the outbox for D1-authoritative ones), or the last applied
 * event's lag when nothing waits. The per-entity backlog counts say whether anything waits.
 */
export function behindSeconds(entity: EntityStatus, status: SyncStatus, now: number): number | null {
  const waiting =
    "changeLog" in entity.backlog ? (entity.backlog.changeLog ?? 0) > 0 : (entity.backlog.outboxUnpublished ?? 0) > 0;
  const oldest = "changeLog" in entity.backlog ? status.sweeps.changeLog.oldestUnsweptAt : status.sweeps.outbox.oldest;
  if (waiting && oldest) return Math.max(0, Math.round((now - Date.parse(oldest)) / 1000));
  return entity.lagSeconds;
}

/**
 * Words and colour come from this one state. An unhealthy entity is a warning whatever its age;
 * Supabase unreachable (its row count unknown) is an error: nothing can be said about freshness.
 */
export function freshnessOf(entity: EntityStatus, status: SyncStatus, now: number): Freshness {
  if (!entity.replica) return "no-replica";
  if (entity.rows.supabase === null) return "error";
  if (!entity.healthy) return "warning";
  const behind = behindSeconds(entity, status, now) ?? 0;
  if (behind >= FRESHNESS_SECONDS.veryStale) return "very-stale";
  if (behind >= FRESHNESS_SECONDS.stale) return "stale";
  return "fresh";
}

/** "45 s", "3 min", "2 h 5 min": short enough for a card at 360 px. */
export function duration(seconds: number | null): string {
  if (seconds === null) return "—";
  if (seconds < 90) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
