import { SETTLED } from "./task-status";

/** Tasks redacted per run: bounds one statement; the hourly cron catches up on a backlog. */
const REDACT_PER_RUN = 5000;

/**
 * A task settled (resolved or superseded) before `settledBefore` loses its row image (PII no longer
 * needed: a settled task cannot be replayed). Its event keeps the envelope (id, entity, op, key,
 * version, times, source, trace) with `row: null`, so the task and its history still say what
 * happened to which row; `event_redacted_at` records when. A body that was not an event (a raw
 * dead letter without an entity) is replaced by null. A statement for the caller's batch.
 */
export function redactSettledPayloadsStatement(
  db: D1Database,
  settledBefore: string,
  now: string,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE failed_tasks
          SET event = CASE WHEN json_valid(event) AND json_type(event) = 'object' AND json_type(event, '$.entity') = 'text' THEN json_object(
                        'id', json_extract(event, '$.id'), 'entity', json_extract(event, '$.entity'), 'op', json_extract(event, '$.op'),
                        'key', json_extract(event, '$.key'), 'version', json_extract(event, '$.version'),
                        'occurred_at', json_extract(event, '$.occurred_at'), 'source', json_extract(event, '$.source'),
                        'trace_id', json_extract(event, '$.trace_id'), 'row', NULL)
                      ELSE 'null' END,
              event_redacted_at = ?2
        WHERE id IN (SELECT id FROM failed_tasks
                      WHERE event_redacted_at IS NULL AND resolved_at IS NOT NULL AND resolved_at < ?1
                        AND status IN ${SETTLED}
                      LIMIT ${REDACT_PER_RUN})`,
    )
    .bind(settledBefore, now);
}
