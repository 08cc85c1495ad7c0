import type { Store } from "../schemas/define-entity";
import { describe } from "./errors";
import { validateEvent, type ValidEvent } from "./validate-event";

export type ErrorInfo = ReturnType<typeof describe>;
export type Outcome =
  | { kind: "applied" }
  /** The replica already holds this version or a newer one (duplicate, late or superseded). */
  | { kind: "stale" }
  | { kind: "failed"; error: ErrorInfo };

/** What a replica holds for an event's row after an apply. */
export interface Held {
  /** The version it holds (row or tombstone, 0 for neither). */
  version: number;
  /**
   * It holds exactly the event's version but not the event's state: another image at that
   * version, a tombstone where the event says the row exists, or a row where it says deleted.
   */
  conflict: boolean;
  /** The held row's updated_at, when what it holds is a row (not a tombstone). */
  updatedAt?: string | null;
}

/**
 * A stale event whose row was changed this much later than the newer row the replica holds is a
 * version regression, not a late duplicate. Versions and updated_at grow together at the source,
 * except that updated_at is the writing transaction's start: a transaction that waited for a row
 * lock can stamp a higher version with an earlier time. The margin leaves room for that; after a
 * point-in-time restore the gap is the time since the restore point, far larger.
 */
export const REGRESSION_MARGIN_MS = 15 * 60 * 1000;

/** A replica store: applies events in one round trip and one transaction, or throws. */
export interface ReplicaTarget {
  store: Store;
  /** Returns, per event id, what the replica holds for that row afterwards. */
  apply(events: ValidEvent[]): Promise<Map<string, Held>>;
}

/**
 * Applies a batch of queue message bodies to a replica and returns one outcome per body, in order.
 *
 * Invariant 2 makes this idempotent: a row is written iff the incoming version is newer. Events
 * for the same row are reduced to the newest first (Postgres cannot touch a row twice in one
 * statement, and the older ones are stale by definition once the newest is applied).
 * If the store rejects the batch for a permanent reason, each event is retried alone so that one
 * poison event fails by itself instead of taking its neighbours to the dead-letter queue.
 */
export async function applyBatch(target: ReplicaTarget, bodies: readonly unknown[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(bodies.length);
  const valid: Array<{ index: number; item: ValidEvent }> = [];
  bodies.forEach((body, index) => {
    try {
      valid.push({ index, item: validateEvent(body, target.store) });
    } catch (error) {
      outcomes[index] = { kind: "failed", error: describe(error) };
    }
  });

  const newest = new Map<string, { index: number; item: ValidEvent }>();
  const superseded: Array<{ index: number; by: string }> = [];
  for (const entry of valid) {
    const key = `${entry.item.event.entity}:${entry.item.event.key.id}`;
    const current = newest.get(key);
    if (current && entry.item.event.version === current.item.event.version && !sameState(entry.item, current.item)) {
      // Two states of one row under one version in the same batch: see conflictOutcome.
      outcomes[entry.index] = conflictOutcome(entry.item, "another event of this batch");
      continue;
    }
    if (!current || entry.item.event.version > current.item.event.version) {
      if (current) superseded.push({ index: current.index, by: key });
      newest.set(key, entry);
    } else {
      superseded.push({ index: entry.index, by: key });
    }
  }

  const winners = [...newest.values()];
  await applyWinners(target, winners, outcomes);
  for (const { index, by } of superseded) {
    const winner = outcomes[newest.get(by)!.index]!;
    // Stale only if the newer event is in the store; if it failed, this one shares its fate
    // (acking it would leave the row with neither version).
    outcomes[index] = winner.kind === "failed" ? winner : { kind: "stale" };
  }
  return outcomes;
}

async function applyWinners(
  target: ReplicaTarget,
  winners: Array<{ index: number; item: ValidEvent }>,
  outcomes: Outcome[],
): Promise<void> {
  if (winners.length === 0) return;
  try {
    const held = await target.apply(winners.map((w) => w.item));
    for (const { index, item } of winners) outcomes[index] = outcomeOf(item, held.get(item.event.id));
  } catch (error) {
    const info = describe(error);
    if (info.retryable || winners.length === 1) {
      for (const { index } of winners) outcomes[index] = { kind: "failed", error: info };
      return;
    }
    // Isolate the poison: each event alone, in its own transaction.
    for (const winner of winners) await applyWinners(target, [winner], outcomes);
  }
}

function outcomeOf(item: ValidEvent, held: Held | undefined): Outcome {
  if (held === undefined || held.version < item.event.version) {
    return {
      kind: "failed",
      error: {
        code: "NOT_APPLIED",
        message: `replica holds version ${held?.version ?? "none"} after apply`,
        retryable: true,
      },
    };
  }
  if (held.conflict) return conflictOutcome(item, "the replica");
  if (held.version === item.event.version) return { kind: "applied" };
  return regressed(item, held) ? regressionOutcome(item, held) : { kind: "stale" };
}

function regressed(item: ValidEvent, held: Held): boolean {
  if (item.event.op !== "upsert" || !held.updatedAt) return false;
  const incoming = Date.parse(String(item.row?.updated_at));
  const holding = Date.parse(held.updatedAt);
  return Number.isFinite(incoming) && Number.isFinite(holding) && incoming - holding > REGRESSION_MARGIN_MS;
}

/**
 * The cheap half of regression detection (reconciliation is the thorough one): acking this event
 * as stale would drop a real change for good, since every later change of the row will be stale
 * too until the source counts past the replica. So it fails permanently into failed_tasks, where
 * it alerts at once; the operator resolves it (`npm run ops -- resolve-regression`), after which
 * the re-stamped row flows and this task replays as superseded.
 */
function regressionOutcome(item: ValidEvent, held: Held): Outcome {
  return {
    kind: "failed",
    error: {
      code: "VERSION_REGRESSION",
      message:
        `${item.event.entity} ${item.event.key.id}: the source changed the row at ${String(item.row?.updated_at)} with version ${item.event.version}, ` +
        `below the replica's version ${held.version} of ${held.updatedAt} (was the source restored to an earlier point in time?)`,
      retryable: false,
    },
  };
}

/**
 * One version, two states. Versions only grow at the authoritative store, so this happens only
 * when a store was restored to an earlier point in time (the source re-issued a version the
 * replica already saw) or edited behind the pipeline's back. Neither side can be trusted to win:
 * counting the event as applied (or acking it as a duplicate) would leave the replica silently
 * different from the source for good, since no later event at that version will ever differ.
 * So it fails permanently, with its own code, into failed_tasks, where an operator resolves it
 * (re-stamp the source after a restore: `npm run ops -- resolve-regression`; or reconcile, which
 * repairs an edited replica at the same version).
 */
function conflictOutcome(item: ValidEvent, holder: string): Outcome {
  return {
    kind: "failed",
    error: {
      code: "VERSION_CONTENT_CONFLICT",
      message: `${holder} holds ${item.event.entity} ${item.event.key.id} at version ${item.event.version} in a different state than this ${item.event.op} event`,
      retryable: false,
    },
  };
}

function sameState(a: ValidEvent, b: ValidEvent): boolean {
  return a.event.op === b.event.op && JSON.stringify(a.row) === JSON.stringify(b.row);
}
