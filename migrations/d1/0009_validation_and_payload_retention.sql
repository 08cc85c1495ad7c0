-- Issue 10: a same-status move cannot rewrite a status's timestamp, and resolved failed tasks'
-- row images expire.

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

-- failed_tasks.event holds the full row image (names, addresses, bodies). Once a task is resolved
-- or superseded its row image is only history: the hourly retention (src/services/retention.ts)
-- sets event.row to null after FAILED_TASK_PAYLOAD_RETENTION_DAYS and stamps this column. The
-- task keeps its entity, row id, op, version, error and history.
ALTER TABLE failed_tasks ADD COLUMN event_redacted_at TEXT;
CREATE INDEX failed_tasks_redact_idx ON failed_tasks (resolved_at) WHERE event_redacted_at IS NULL AND resolved_at IS NOT NULL;
