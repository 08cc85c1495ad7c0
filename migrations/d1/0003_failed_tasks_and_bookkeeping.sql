-- failed_tasks: every event that could not be applied, with its reason (Cloudflare DLQ messages
-- carry none, so consumers attach it). One row per (queue, event); a replay that fails again
-- updates the same row.
CREATE TABLE failed_tasks (
  id TEXT PRIMARY KEY,                 -- ULID, sorts by first failure
  queue TEXT NOT NULL,                 -- the work queue the event belongs to (to-d1 / to-supabase)
  event_id TEXT NOT NULL,
  entity TEXT,
  row_id TEXT,
  op TEXT,
  event TEXT NOT NULL,                 -- the full event (JSON) as it was queued
  error_code TEXT NOT NULL,
  error_message TEXT NOT NULL,
  retryable INTEGER NOT NULL,
  attempts INTEGER NOT NULL,           -- deliveries before the last dead-lettering
  failure_count INTEGER NOT NULL DEFAULT 1,
  replay_count INTEGER NOT NULL DEFAULT 0,
  last_message_id TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open','replaying','resolved')),
  first_failed_at TEXT NOT NULL,
  last_failed_at TEXT NOT NULL,
  last_replayed_at TEXT,
  resolved_at TEXT,
  UNIQUE (queue, event_id)
);
CREATE INDEX failed_tasks_status_idx ON failed_tasks (status, id);
CREATE INDEX failed_tasks_entity_idx ON failed_tasks (entity, id);

-- Per entity and direction: what the consumers last applied (sync bookkeeping for status pages).
CREATE TABLE sync_entity_state (
  entity TEXT PRIMARY KEY,
  last_event_id TEXT,
  last_event_at TEXT,
  last_applied_at TEXT,
  applied_total INTEGER NOT NULL DEFAULT 0,
  stale_total INTEGER NOT NULL DEFAULT 0,
  failed_total INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
