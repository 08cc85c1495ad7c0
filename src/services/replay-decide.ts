import { assertEventFits } from "../../producers/publish";
import type { SyncEvent } from "../../schemas/event";
import type { ReplayMode, TaskStatus } from "../../schemas/operator-api";
import { entityByName, type EntityName } from "../../schemas/registry";
import { isExternalAuthority, type EntityDefinition } from "../../schemas/define-entity";
import type { CurrentRow, RowState } from "../../core/stores/row-state";
import { describe } from "../../core/errors";
import { RETENTION_DAYS } from "./retention";

/** What replay needs of a failed task. */
export interface ReplayableTask {
  id: string;
  queue: string;
  event_id: string;
  entity: string | null;
  row_id: string | null;
  status: TaskStatus;
  /** As read: the replay's claim holds only if neither it nor the status has changed since. */
  replay_count: number;
  event: Record<string, unknown>;
  /** Why it failed: a VERSION_CONTENT_CONFLICT or VERSION_REGRESSION is not "superseded" by what the replica holds. */
  error_code?: string | null;
}

export interface ReplayOptions {
  mode: ReplayMode;
  override: boolean;
  /**
   * Whether a task that is still `replaying` (sent, outcome not known yet) may be sent again.
   * Plans select such tasks only when asked (status replaying: e.g. a job runner died after
   * recording them), so a job allows it only when its plan asked; a single replay only with `override`.
   */
  allowReplaying: boolean;
  actor: string;
  jobId: string | null;
  now: string;
}

/** Why a task is left alone; a single replay answers with it as the error code. */
export type SkipCode =
  | "ALREADY_RESOLVED"
  | "ALREADY_REPLAYING"
  | "QUARANTINED"
  | "NOT_REPLAYABLE"
  | "TASK_EXPIRED"
  /** Refresh of an entity owned outside (HubSpot) while no portal is connected: the task is left as it was. */
  | "HUBSPOT_NOT_CONNECTED"
  /** Refresh re-read a row the outside authority still holds in a state the registry refuses (the reason says why). */
  | "SCHEMA_VIOLATION"
  | "EVENT_TOO_LARGE";

/**
 * Source reads that fail for every row of the entity for a reason no retry fixes (no HubSpot
 * portal connected): its tasks are skipped with the code and stay open, replayable once fixed.
 * Anything else a source read throws (HubSpot or Supabase unavailable) propagates: a single replay
 * answers with it, a job's tick is retried, and no task changes.
 */
const SOURCE_REFUSALS: ReadonlySet<SkipCode> = new Set(["HUBSPOT_NOT_CONNECTED"]);

/**
 * How long the replica remembers a delete: its tombstones are pruned after RETENTION_DAYS
 * (src/services/retention.ts), less a day for clocks (the row's updated_at is stamped by one store,
 * a tombstone's deleted_at by the other side).
 */
export const REPLICA_DELETE_MEMORY_MS = (RETENTION_DAYS - 1) * 86_400_000;

export type SendDecision = { task: ReplayableTask; outcome: "send"; event: SyncEvent };
export type Decision =
  | SendDecision
  /** The replica already holds this version or a newer one: resolved without sending. */
  | { task: ReplayableTask; outcome: "superseded"; detail: string }
  | { task: ReplayableTask; outcome: "skipped"; code: SkipCode; detail: string };

export const isSend = (d: Decision): d is SendDecision => d.outcome === "send";

/** The stores replay reads: the replica (superseded check) and the authoritative store (refresh). */
export interface ReplayStores {
  replica(entity: EntityDefinition): RowState;
  source(entity: EntityDefinition): RowState;
}

/**
 * Decides, for a chunk of tasks, what a replay does with each: send it (with the replay marker),
 * resolve it as superseded without sending, or leave it alone and say why. One read per entity
 * of the replica (versions) and, in refresh mode, one of the source (current rows).
 */
export async function decideReplays(
  stores: ReplayStores,
  tasks: ReplayableTask[],
  opts: ReplayOptions,
): Promise<Decision[]> {
  const decisions = new Map<string, Decision>();
  const candidates: Array<{ task: ReplayableTask; entity: EntityDefinition }> = [];
  for (const task of tasks) {
    const skip = (code: SkipCode, detail: string) => decisions.set(task.id, { task, outcome: "skipped", code, detail });
    const entity = task.entity ? entityByName(task.entity) : undefined;
    if (task.status === "resolved" || task.status === "superseded") skip("ALREADY_RESOLVED", `already ${task.status}`);
    else if (task.status === "replaying" && !opts.allowReplaying)
      skip(
        "ALREADY_REPLAYING",
        "already sent and not settled yet: wait for its outcome (or replay it with an override if it is stuck)",
      );
    else if (task.status === "quarantined" && !opts.override)
      skip("QUARANTINED", "quarantined after failing again and again: replaying it needs an override");
    else if (!task.event || typeof task.event !== "object" || Array.isArray(task.event))
      skip("NOT_REPLAYABLE", "holds no event object to replay");
    else if (!entity?.replica || !task.row_id) {
      // Not an event of a replicated row (it failed validation): only the original can be resent.
      if (opts.mode === "refresh")
        skip("NOT_REPLAYABLE", "not a replicated row's event: refresh needs a known entity and row id");
      else decisions.set(task.id, { task, outcome: "send", event: marked(task.event as SyncEvent, task, opts) });
    } else candidates.push({ task, entity });
  }

  for (const [entity, group] of groupBy(candidates, (c) => c.entity)) {
    const ids = [...new Set(group.map((c) => c.task.row_id!))];
    const [held, current] = await Promise.all([
      stores.replica(entity).versions(entity, ids),
      opts.mode === "refresh" ? readSource(stores, entity, ids) : Promise.resolve(null),
    ]);
    if (current && "refused" in current) {
      for (const { task } of group)
        decisions.set(task.id, { task, outcome: "skipped", code: current.refused, detail: current.detail });
      continue;
    }
    const unproven =
      opts.mode === "original"
        ? await unprovenUpserts(stores, entity, group, held, opts.now)
        : new Map<string, Decision>();
    for (const { task } of group) {
      const verdict = unproven.get(task.id);
      if (verdict) {
        decisions.set(task.id, verdict);
        continue;
      }
      const id = task.row_id!;
      let event = task.event as SyncEvent;
      if (current) {
        const now = current.rows.get(id);
        if (now?.invalid) {
          decisions.set(task.id, {
            task,
            outcome: "skipped",
            code: invalidCode(now.invalid.code),
            detail: `the source (${entity.authority}) still holds row ${id} in a state that cannot be replicated: ${now.invalid.message}`,
          });
          continue;
        }
        if (!now) {
          decisions.set(task.id, {
            task,
            outcome: "skipped",
            code: "NOT_REPLAYABLE",
            detail: `the source (${entity.authority}) holds no row ${id} and no record of its delete`,
          });
          continue;
        }
        event = {
          ...event,
          entity: entity.name as EntityName,
          op: now.row ? "upsert" : "delete",
          key: { id },
          version: now.version,
          row: now.row,
          occurred_at: opts.now,
          source: "replay",
          trace_id: `replay:${task.id}`,
        };
      }
      const version = Number(event.version);
      const replicaHolds = held.get(id) ?? 0;
      if (task.error_code === "VERSION_REGRESSION" && (!current || version < replicaHolds)) {
        // The replica is ahead of the source by definition: "superseded" would hide the regression.
        // Once resolve-regression has re-stamped the row, refresh reads the new version.
        decisions.set(task.id, {
          task,
          outcome: "skipped",
          code: "NOT_REPLAYABLE",
          detail: current
            ? `the source (version ${version}) is still below the replica (${replicaHolds}): npm run ops -- resolve-regression first`
            : "a version regression is replayed in refresh mode, after npm run ops -- resolve-regression",
        });
        continue;
      }
      if (task.error_code === "VERSION_CONTENT_CONFLICT" && replicaHolds === version) {
        // The replica holds this very version in another state: "superseded" would call the
        // conflict resolved, and sending it again would only fail the same way.
        decisions.set(task.id, {
          task,
          outcome: "skipped",
          code: "NOT_REPLAYABLE",
          detail: `the replica still holds version ${version} in another state: resolve the conflict first (npm run ops -- regressions / resolve-regression, or reconcile)`,
        });
        continue;
      }
      if (Number.isFinite(version) && replicaHolds >= version) {
        decisions.set(task.id, {
          task,
          outcome: "superseded",
          detail: `replica holds version ${replicaHolds}, the replay would carry ${version}`,
        });
        continue;
      }
      const replay = marked(event, task, opts);
      try {
        assertEventFits(replay);
        decisions.set(task.id, { task, outcome: "send", event: replay });
      } catch (error) {
        decisions.set(task.id, { task, outcome: "skipped", code: "NOT_REPLAYABLE", detail: describe(error).message });
      }
    }
  }
  return tasks.map((t) => decisions.get(t.id)!);
}

/**
 * Item 8: an original upsert must not bring back a row deleted after it. The replica refuses it
 * while it holds the delete's tombstone (the version rule), but tombstones are pruned after
 * RETENTION_DAYS while failed tasks are kept for ever. So when the replica holds nothing for the
 * row (neither row nor tombstone) and the row image is older than the replica's memory of deletes,
 * its absence proves nothing: the row may never have arrived, or it was deleted and the tombstone
 * is gone. Then, and only then, the authoritative store decides (one read per entity per chunk):
 * it holds the row (sending is safe: the row exists), it holds the delete at a newer version
 * (superseded: nothing to send), or it knows nothing of the row (TASK_EXPIRED: refused; the
 * refresh mode reads the source and publishes what it holds).
 *
 * Safer than keeping tombstones while tasks reference them (that needs D1's task list inside
 * Postgres's pruning) and than expiring every old task (most are still good to replay). The row's
 * `updated_at` bounds the delete from below: the delete was committed after the version it
 * supersedes was written, so its tombstone is at least as young as that row image.
 */
async function unprovenUpserts(
  stores: ReplayStores,
  entity: EntityDefinition,
  group: Array<{ task: ReplayableTask }>,
  held: Map<string, number>,
  now: string,
): Promise<Map<string, Decision>> {
  const horizon = Date.parse(now) - REPLICA_DELETE_MEMORY_MS;
  const old = group.filter(({ task }) => {
    const event = task.event as Partial<SyncEvent>;
    if (event.op === "delete" || (held.get(task.row_id!) ?? 0) > 0) return false;
    return writtenAt(event, entity) < horizon;
  });
  const verdicts = new Map<string, Decision>();
  if (!old.length) return verdicts;
  const source = await readSource(stores, entity, [...new Set(old.map(({ task }) => task.row_id!))]);
  for (const { task } of old) {
    if ("refused" in source) {
      verdicts.set(task.id, { task, outcome: "skipped", code: source.refused, detail: source.detail });
      continue;
    }
    const state = source.rows.get(task.row_id!);
    const version = Number((task.event as Partial<SyncEvent>).version);
    // The row exists at the source (also when in a state the replica would refuse): nothing to resurrect.
    if (state?.row || state?.invalid) continue;
    if (state && state.version >= version) {
      verdicts.set(task.id, {
        task,
        outcome: "superseded",
        detail: `the source (${entity.authority}) deleted row ${task.row_id} at version ${state.version}`,
      });
    } else {
      verdicts.set(task.id, {
        task,
        outcome: "skipped",
        code: "TASK_EXPIRED",
        detail:
          `the replica holds nothing for row ${task.row_id} and its tombstones are kept ${RETENTION_DAYS} days, so it cannot tell ` +
          `whether the row was deleted since this ${new Date(writtenAt(task.event as Partial<SyncEvent>, entity)).toISOString()} image; ` +
          `the source (${entity.authority}) holds no such row either. Replay with mode refresh to publish what the source holds`,
      });
    }
  }
  return verdicts;
}

/**
 * When the event's row image was written at the source: the earliest time it names. For an entity
 * owned outside (HubSpot), its updated_at is HubSpot's and may be years old while the image was
 * read minutes ago; what bounds a later delete from below is the read (occurred_at): an image read
 * at R without the archive means the archive came after R, so its tombstone was recorded after R.
 */
function writtenAt(event: Partial<SyncEvent>, entity: EntityDefinition): number {
  const row = event.row as Record<string, unknown> | null | undefined;
  const candidates = isExternalAuthority(entity.authority) ? [event.occurred_at] : [row?.updated_at, event.occurred_at];
  const times = candidates.map((t) => (typeof t === "string" ? Date.parse(t) : NaN)).filter(Number.isFinite);
  // Unknown: assume old, so the source is asked (the safe side).
  return times.length ? Math.min(...times) : -Infinity;
}

/** The source's current rows, or the refusal every row of the entity gets (SOURCE_REFUSALS). */
async function readSource(
  stores: ReplayStores,
  entity: EntityDefinition,
  ids: string[],
): Promise<{ rows: Map<string, CurrentRow> } | { refused: SkipCode; detail: string }> {
  try {
    return { rows: await stores.source(entity).current(entity, ids) };
  } catch (error) {
    const { code, message } = describe(error);
    if (SOURCE_REFUSALS.has(code as SkipCode)) return { refused: code as SkipCode, detail: message };
    throw error;
  }
}

/** The stable code of a row the source holds but the registry refuses (as the sync dead-letters it). */
function invalidCode(code: string): SkipCode {
  return code === "EVENT_TOO_LARGE" || code === "SCHEMA_VIOLATION" ? code : "NOT_REPLAYABLE";
}

/** The replay marker: consumers resolve the task by it, and logs show who replayed what. */
function marked(event: SyncEvent, task: ReplayableTask, opts: ReplayOptions): SyncEvent {
  return {
    ...event,
    // Same event id as the failed one, also when refreshed: a failure of the replay is the same task.
    id: task.event_id,
    replay: {
      task_id: task.id,
      replayed_at: opts.now,
      job_id: opts.jobId ?? undefined,
      mode: opts.mode,
      by: opts.actor,
    },
  };
}

function groupBy<T, K>(items: T[], key: (item: T) => K): Map<K, T[]> {
  const map = new Map<K, T[]>();
  for (const item of items) map.set(key(item), [...(map.get(key(item)) ?? []), item]);
  return map;
}
