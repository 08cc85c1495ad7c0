import { MAX_EVENT_BYTES, newEventId } from "../../schemas/event";
import { boundedMessage } from "../errors";
import { jsonChunks, utf8Bytes } from "../batching/json-chunks";
import { utcNow } from "../utc";
import { SETTINGS } from "../settings";
import { groupIdOf, signatureOf, type Signature } from "./failure-signature";
import { GROUP_MOVES } from "./group-status";
import { sqlList } from "./status-moves";
import { TASK_MOVES } from "./task-status";

/** After this many replays, a task that fails again is quarantined instead of reopened. */
export const DEFAULT_QUARANTINE_AFTER = SETTINGS.REPLAY_QUARANTINE_AFTER.default;

/** One failure to record: the event as it was queued, why it failed, and which delivery. */
export interface Failure {
  queue: string;
  event: unknown;
  error_code: string;
  error_message: string;
  retryable: number;
  attempts: number;
  last_message_id: string;
  failed_at: string;
}

/** A failure as failed_tasks stores it: the event serialised, its identity pulled out for filtering. */
export type FailureRow = Omit<Failure, "event"> & {
  id: string;
  event: string;
  event_id: string;
  entity: string | null;
  row_id: string | null;
  op: string | null;
  /** The replay that failed, when the event carried a replay marker. */
  job_id: string | null;
};

/**
 * A stored event may be no larger than a queue message (what a replay could send anyway). A row
 * image past that is left out, with a note: recording it whole made D1 refuse the failure itself
 * (2,000,000 bytes per value), so the sweep that found the row failed on every run.
 */
export const MAX_STORED_EVENT_BYTES = MAX_EVENT_BYTES;

function storable(event: unknown): unknown {
  if (!event || typeof event !== "object" || Array.isArray(event)) return event;
  const bytes = utf8Bytes(JSON.stringify(event));
  if (bytes <= MAX_STORED_EVENT_BYTES) return event;
  const { row: _row, row_image: _image, ...rest } = event as Record<string, unknown>;
  return {
    ...rest,
    row: null,
    row_omitted: { bytes, reason: "larger than a queue message: fix it at the source, then replay with mode refresh" },
  };
}

export function failureRow(f: Failure): FailureRow {
  const event = (f.event ?? {}) as Record<string, unknown>;
  const key = event.key as Record<string, unknown> | undefined;
  const replay = event.replay as Record<string, unknown> | undefined;
  return {
    id: newEventId(),
    ...f,
    error_message: boundedMessage(f.error_message),
    event_id: typeof event.id === "string" ? event.id : `message:${f.last_message_id}`,
    entity: typeof event.entity === "string" ? event.entity : null,
    row_id: typeof key?.id === "string" ? key.id : null,
    op: typeof event.op === "string" ? event.op : null,
    job_id: typeof replay?.job_id === "string" ? replay.job_id : null,
    event: JSON.stringify(storable(stripReplayMarker(f.event ?? null))),
  };
}

/** A failure group that has just opened: new, or failing again after it was resolved. */
export type OpenedGroup = Signature & { id: string; reopened: boolean };

/**
 * Records failures in one D1 batch (one transaction), idempotent per delivery: recording the same
 * (queue, event, message) twice changes nothing. A new failure of a known event (a replay that
 * failed again) updates its task: reopened, or quarantined once it has been replayed
 * `quarantineAfter` times. Each failure is appended to the task's history and counted in its
 * failure group; returns the groups that opened, for the alert.
 *
 * Statement order matters: the history insert (OR IGNORE, unique per delivery) marks this call's
 * fresh failures with `batch`, and the group statements count only those, so a redelivered
 * dead-letter batch neither double-counts nor reopens a group.
 */
export async function insertFailedTasks(
  db: D1Database,
  rows: FailureRow[],
  opts: { quarantineAfter?: number } = {},
): Promise<{ opened: OpenedGroup[] }> {
  // Each call binds its rows as one JSON value, which D1 caps at 2,000,000 bytes; a hundred large
  // events pass that. Each chunk is a complete recording of its rows (idempotent per delivery), so
  // a failure between chunks is repaired by recording the batch again.
  const opened: OpenedGroup[] = [];
  for (const chunk of jsonChunks(rows, D1_RECORD_BYTES)) opened.push(...(await insertChunk(db, chunk, opts)).opened);
  return { opened };
}

/** Leaves room for the group ids and history ids each row gains before it is bound. */
const D1_RECORD_BYTES = 1_500_000;

async function insertChunk(
  db: D1Database,
  rows: FailureRow[],
  opts: { quarantineAfter?: number },
): Promise<{ opened: OpenedGroup[] }> {
  if (!rows.length) return { opened: [] };
  const batch = newEventId();
  const now = utcNow();
  const groups = new Map<string, Signature & { id: string }>();
  const withGroups = await Promise.all(
    rows.map(async (r) => {
      const signature = signatureOf(r);
      const id = await groupIdOf(signature);
      groups.set(id, { ...signature, id });
      return { ...r, group_id: id, history_id: newEventId() };
    }),
  );
  const rowsJson = JSON.stringify(withGroups);
  const groupsJson = JSON.stringify([...groups.values()]);
  const results = await db.batch([
    db
      .prepare(
        `INSERT OR IGNORE INTO failed_task_history (id, queue, event_id, kind, at, dedupe_key, job_id, error_code, error_message, message_id, group_id, batch)
         SELECT json_extract(j.value, '$.history_id'), json_extract(j.value, '$.queue'), json_extract(j.value, '$.event_id'), 'failure',
                json_extract(j.value, '$.failed_at'), json_extract(j.value, '$.last_message_id'), json_extract(j.value, '$.job_id'),
                json_extract(j.value, '$.error_code'), json_extract(j.value, '$.error_message'), json_extract(j.value, '$.last_message_id'),
                json_extract(j.value, '$.group_id'), ?2
           FROM json_each(?1) j`,
      )
      .bind(rowsJson, batch),
    // A new delivery of a known event: the task fails again from whatever status the machine lets
    // it (every one: a settled task whose event fails again needs attention again).
    db
      .prepare(
        `INSERT INTO failed_tasks (id, queue, event_id, entity, row_id, op, event, error_code, error_message, retryable,
                                   attempts, last_message_id, first_failed_at, last_failed_at, group_id)
         SELECT json_extract(j.value, '$.id'), json_extract(j.value, '$.queue'), json_extract(j.value, '$.event_id'),
                json_extract(j.value, '$.entity'), json_extract(j.value, '$.row_id'), json_extract(j.value, '$.op'),
                json_extract(j.value, '$.event'), json_extract(j.value, '$.error_code'), json_extract(j.value, '$.error_message'),
                json_extract(j.value, '$.retryable'), json_extract(j.value, '$.attempts'), json_extract(j.value, '$.last_message_id'),
                json_extract(j.value, '$.failed_at'), json_extract(j.value, '$.failed_at'), json_extract(j.value, '$.group_id')
           FROM json_each(?1) j WHERE true
         ON CONFLICT (queue, event_id) DO UPDATE SET
           failure_count = failed_tasks.failure_count + 1,
           event = excluded.event, error_code = excluded.error_code, error_message = excluded.error_message,
           retryable = excluded.retryable, attempts = excluded.attempts, last_message_id = excluded.last_message_id,
           last_failed_at = excluded.last_failed_at, group_id = excluded.group_id, resolved_at = NULL, event_redacted_at = NULL,
           status = CASE WHEN failed_tasks.replay_count >= ?2 THEN 'quarantined' ELSE 'open' END
         WHERE excluded.last_message_id <> failed_tasks.last_message_id AND failed_tasks.status IN ${sqlList(TASK_MOVES.failedAgain.from)}`,
      )
      .bind(rowsJson, opts.quarantineAfter ?? DEFAULT_QUARANTINE_AFTER),
    db
      .prepare(
        `INSERT OR IGNORE INTO failed_task_history (id, queue, event_id, kind, at, dedupe_key, job_id, message_id)
         SELECT h.id || 'Q', h.queue, h.event_id, 'quarantined', h.at, h.dedupe_key, h.job_id, h.message_id
           FROM failed_task_history h JOIN failed_tasks t ON t.queue = h.queue AND t.event_id = h.event_id
          WHERE h.batch = ?1 AND t.status = 'quarantined'`,
      )
      .bind(batch),
    db
      .prepare(
        `UPDATE failure_groups SET status = 'open', status_changed_at = ?2, status_changed_by = 'system',
                status_reason = 'failed again after it was resolved'
          WHERE status IN ${sqlList(GROUP_MOVES.failedAgain.from)} AND id IN (SELECT group_id FROM failed_task_history WHERE batch = ?1)
         RETURNING id`,
      )
      .bind(batch, now),
    db
      .prepare(
        `INSERT INTO failure_groups (id, queue, entity, error_code, message_pattern, first_seen_at, last_seen_at)
         SELECT json_extract(g.value, '$.id'), json_extract(g.value, '$.queue'), json_extract(g.value, '$.entity'),
                json_extract(g.value, '$.error_code'), json_extract(g.value, '$.message_pattern'), ?2, ?2
           FROM json_each(?1) g WHERE true
         ON CONFLICT (id) DO NOTHING
         RETURNING id`,
      )
      .bind(groupsJson, now),
    db
      .prepare(
        `UPDATE failure_groups
            SET failures = failures + (SELECT count(*) FROM failed_task_history h WHERE h.batch = ?1 AND h.group_id = failure_groups.id),
                last_seen_at = ?2
          WHERE id IN (SELECT group_id FROM failed_task_history WHERE batch = ?1)`,
      )
      .bind(batch, now),
  ]);
  const reopened = new Set((results[3]!.results as Array<{ id: string }>).map((r) => r.id));
  const created = new Set((results[4]!.results as Array<{ id: string }>).map((r) => r.id));
  const opened = [...groups.values()]
    .filter((g) => created.has(g.id) || reopened.has(g.id))
    .map((g) => ({ ...g, reopened: reopened.has(g.id) }));
  return { opened };
}

/** The stored event is the event as it first failed; a replay's marker lives in the history. */
function stripReplayMarker(event: unknown): unknown {
  if (!event || typeof event !== "object" || Array.isArray(event) || !("replay" in event)) return event;
  const { replay: _replay, ...rest } = event as Record<string, unknown>;
  return rest;
}
