import type { Store } from "../schemas/define-entity";
import { describe } from "../src/lib/errors";
import { validateEvent, type ValidEvent } from "./validate-event";

export type ErrorInfo = ReturnType<typeof describe>;
export type Outcome =
  | { kind: "applied" }
  /** The replica already holds this version or a newer one (duplicate, late or superseded). */
  | { kind: "stale" }
  | { kind: "failed"; error: ErrorInfo };

/** A replica store: applies events in one round trip and one transaction, or throws. */
export interface ReplicaTarget {
  store: Store;
  /** Returns, per event id, the version the replica holds for that row afterwards (row or tombstone). */
  apply(events: ValidEvent[]): Promise<Map<string, number>>;
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
    const current = await target.apply(winners.map((w) => w.item));
    for (const { index, item } of winners) outcomes[index] = outcomeOf(item, current.get(item.event.id));
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

function outcomeOf(item: ValidEvent, current: number | undefined): Outcome {
  if (current === undefined || current < item.event.version) {
    return {
      kind: "failed",
      error: { code: "NOT_APPLIED", message: `replica holds version ${current ?? "none"} after apply`, retryable: true },
    };
  }
  return current === item.event.version ? { kind: "applied" } : { kind: "stale" };
}
