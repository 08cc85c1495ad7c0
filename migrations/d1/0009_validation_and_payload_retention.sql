-- Issue 10: a same-status move cannot rewrite a status's timestamp, email timestamps obey the
-- registry's rule at the source, and resolved failed tasks' row images expire.

-- The registry refuses a move to the same status (schemas/state-machine.ts: `replied → replied`
-- would re-stamp replied_at). emails_enforce_transition only checks updates that change the
-- status, as Postgres's sync.enforce_transition does: an update that keeps the status and edits
-- another column is not a transition. What a same-status "move" changes is a status timestamp,
-- so that is refused here, whatever writes D1: the timestamps change only with the status.
CREATE TRIGGER emails_stamp_only_with_status BEFORE UPDATE ON emails
WHEN NEW.status = OLD.status AND (
  NEW.sent_at IS NOT OLD.sent_at OR NEW.delivered_at IS NOT OLD.delivered_at OR NEW.opened_at IS NOT OLD.opened_at OR
  NEW.clicked_at IS NOT OLD.clicked_at OR NEW.replied_at IS NOT OLD.replied_at OR NEW.bounced_at IS NOT OLD.bounced_at OR
  NEW.failed_at IS NOT OLD.failed_at)
BEGIN
  SELECT RAISE(ABORT, 'INVALID_TRANSITION: a status timestamp changes only with the status');
END;

-- D1 is the source of emails: its timestamps obey the registry's rule (schemas/fields.ts) whatever
-- writes them, not only the email API. strftime re-renders a date it understands as
-- 2025-12-13T10:30:00.000Z, so a value it changes is not canonical UTC with milliseconds: an
-- offset, a space, missing milliseconds, or an impossible date (SQLite rolls 2025-02-30 over to
-- 2025-03-02). Year 0000 renders unchanged, hence the lower bound; four-digit years bound the top.
CREATE TRIGGER emails_timestamps_insert BEFORE INSERT ON emails
WHEN (NEW.sent_at IS NOT NULL AND (strftime('%Y-%m-%dT%H:%M:%fZ', NEW.sent_at) IS NOT NEW.sent_at OR NEW.sent_at < '0001')) OR
  (NEW.delivered_at IS NOT NULL AND (strftime('%Y-%m-%dT%H:%M:%fZ', NEW.delivered_at) IS NOT NEW.delivered_at OR NEW.delivered_at < '0001')) OR
  (NEW.opened_at IS NOT NULL AND (strftime('%Y-%m-%dT%H:%M:%fZ', NEW.opened_at) IS NOT NEW.opened_at OR NEW.opened_at < '0001')) OR
  (NEW.clicked_at IS NOT NULL AND (strftime('%Y-%m-%dT%H:%M:%fZ', NEW.clicked_at) IS NOT NEW.clicked_at OR NEW.clicked_at < '0001')) OR
  (NEW.replied_at IS NOT NULL AND (strftime('%Y-%m-%dT%H:%M:%fZ', NEW.replied_at) IS NOT NEW.replied_at OR NEW.replied_at < '0001')) OR
  (NEW.bounced_at IS NOT NULL AND (strftime('%Y-%m-%dT%H:%M:%fZ', NEW.bounced_at) IS NOT NEW.bounced_at OR NEW.bounced_at < '0001')) OR
  (NEW.failed_at IS NOT NULL AND (strftime('%Y-%m-%dT%H:%M:%fZ', NEW.failed_at) IS NOT NEW.failed_at OR NEW.failed_at < '0001')) OR
  (NEW.created_at IS NOT NULL AND (strftime('%Y-%m-%dT%H:%M:%fZ', NEW.created_at) IS NOT NEW.created_at OR NEW.created_at < '0001')) OR
  (NEW.updated_at IS NOT NULL AND (strftime('%Y-%m-%dT%H:%M:%fZ', NEW.updated_at) IS NOT NEW.updated_at OR NEW.updated_at < '0001'))
BEGIN
  SELECT RAISE(ABORT, 'INVALID_TIMESTAMP: email timestamps are UTC 0001-01-01T00:00:00.000Z … 9999-12-31T23:59:59.999Z');
END;

-- Only the columns an update changes are checked: a row written before this migration stays
-- updatable.
CREATE TRIGGER emails_timestamps_update BEFORE UPDATE ON emails
WHEN (NEW.sent_at IS NOT OLD.sent_at AND NEW.sent_at IS NOT NULL AND (strftime('%Y-%m-%dT%H:%M:%fZ', NEW.sent_at) IS NOT NEW.sent_at OR NEW.sent_at < '0001')) OR
  (NEW.delivered_at IS NOT OLD.delivered_at AND NEW.delivered_at IS NOT NULL AND (strftime('%Y-%m-%dT%H:%M:%fZ', NEW.delivered_at) IS NOT NEW.delivered_at OR NEW.delivered_at < '0001')) OR
  (NEW.opened_at IS NOT OLD.opened_at AND NEW.opened_at IS NOT NULL AND (strftime('%Y-%m-%dT%H:%M:%fZ', NEW.opened_at) IS NOT NEW.opened_at OR NEW.opened_at < '0001')) OR
  (NEW.clicked_at IS NOT OLD.clicked_at AND NEW.clicked_at IS NOT NULL AND (strftime('%Y-%m-%dT%H:%M:%fZ', NEW.clicked_at) IS NOT NEW.clicked_at OR NEW.clicked_at < '0001')) OR
  (NEW.replied_at IS NOT OLD.replied_at AND NEW.replied_at IS NOT NULL AND (strftime('%Y-%m-%dT%H:%M:%fZ', NEW.replied_at) IS NOT NEW.replied_at OR NEW.replied_at < '0001')) OR
  (NEW.bounced_at IS NOT OLD.bounced_at AND NEW.bounced_at IS NOT NULL AND (strftime('%Y-%m-%dT%H:%M:%fZ', NEW.bounced_at) IS NOT NEW.bounced_at OR NEW.bounced_at < '0001')) OR
  (NEW.failed_at IS NOT OLD.failed_at AND NEW.failed_at IS NOT NULL AND (strftime('%Y-%m-%dT%H:%M:%fZ', NEW.failed_at) IS NOT NEW.failed_at OR NEW.failed_at < '0001')) OR
  (NEW.created_at IS NOT OLD.created_at AND NEW.created_at IS NOT NULL AND (strftime('%Y-%m-%dT%H:%M:%fZ', NEW.created_at) IS NOT NEW.created_at OR NEW.created_at < '0001')) OR
  (NEW.updated_at IS NOT OLD.updated_at AND NEW.updated_at IS NOT NULL AND (strftime('%Y-%m-%dT%H:%M:%fZ', NEW.updated_at) IS NOT NEW.updated_at OR NEW.updated_at < '0001'))
BEGIN
  SELECT RAISE(ABORT, 'INVALID_TIMESTAMP: email timestamps are UTC 0001-01-01T00:00:00.000Z … 9999-12-31T23:59:59.999Z');
END;

-- failed_tasks.event holds the full row image (names, addresses, bodies). Once a task is resolved
-- or superseded its row image is only history: the hourly retention (src/services/retention.ts)
-- sets event.row to null after FAILED_TASK_PAYLOAD_RETENTION_DAYS and stamps this column. The
-- task keeps its entity, row id, op, version, error and history.
ALTER TABLE failed_tasks ADD COLUMN event_redacted_at TEXT;
CREATE INDEX failed_tasks_redact_idx ON failed_tasks (resolved_at) WHERE event_redacted_at IS NULL AND resolved_at IS NOT NULL;
