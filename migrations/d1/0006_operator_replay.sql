-- Operator replay: failure groups, a history per failed task, frozen replay plans, rate-limited
-- replay jobs and an audit trail of every operator action (src/services/replay-*.ts).

-- failed_tasks gains two statuses (superseded: resolved without sending because the replica
-- already held the same or a newer version; quarantined: failed again after too many replays,
-- needs an explicit override), its failure group and the job that last replayed it. SQLite cannot
-- alter a CHECK constraint, so the table is rebuilt; every row is kept.
CREATE TABLE failed_tasks_next (
  id TEXT PRIMARY KEY,
  queue TEXT NOT NULL,
  event_id TEXT NOT NULL,
  entity TEXT,
  row_id TEXT,
  op TEXT,
  event TEXT NOT NULL,
  error_code TEXT NOT NULL,
  error_message TEXT NOT NULL,
  retryable INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  failure_count INTEGER NOT NULL DEFAULT 1,
  replay_count INTEGER NOT NULL DEFAULT 0,
  last_message_id TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open'
    CHECK (status IN ('open','replaying','resolved','superseded','quarantined')),
  first_failed_at TEXT NOT NULL,
  last_failed_at TEXT NOT NULL,
  last_replayed_at TEXT,
  resolved_at TEXT,
  group_id TEXT,                       -- failure_groups.id of the last failure
  last_job_id TEXT,                    -- replay_jobs.id of the last replay (null: a single-task replay)
  UNIQUE (queue, event_id)
);
INSERT INTO failed_tasks_next (id, queue, event_id, entity, row_id, op, event, error_code, error_message, retryable,
  attempts, failure_count, replay_count, last_message_id, status, first_failed_at, last_failed_at, last_replayed_at, resolved_at)
SELECT id, queue, event_id, entity, row_id, op, event, error_code, error_message, retryable,
  attempts, failure_count, replay_count, last_message_id, status, first_failed_at, last_failed_at, last_replayed_at, resolved_at
FROM failed_tasks;
DROP TABLE failed_tasks;
ALTER TABLE failed_tasks_next RENAME TO failed_tasks;
CREATE INDEX failed_tasks_status_idx ON failed_tasks (status, id);
CREATE INDEX failed_tasks_entity_idx ON failed_tasks (entity, id);
CREATE INDEX failed_tasks_group_idx ON failed_tasks (group_id, status);
CREATE INDEX failed_tasks_last_failed_idx ON failed_tasks (last_failed_at);

-- Failures with the same signature (queue, entity, error code, message with ids and numbers
-- blanked out) form a group, so a thousand failures of one cause read as one line.
CREATE TABLE failure_groups (
  id TEXT PRIMARY KEY,                 -- first 16 hex digits of SHA-256(signature)
  queue TEXT NOT NULL,
  entity TEXT,
  error_code TEXT NOT NULL,
  message_pattern TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open','acknowledged','resolved','ignored')),
  failures INTEGER NOT NULL DEFAULT 0,
  first_seen_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  status_changed_at TEXT,
  status_changed_by TEXT,
  status_reason TEXT
) WITHOUT ROWID;
CREATE INDEX failure_groups_status_idx ON failure_groups (status, last_seen_at);

-- Every failure, replay and outcome of a task, keyed like the task by (queue, event_id) so the
-- dead-letter consumer can append without knowing the task's id. Idempotent per delivery.
CREATE TABLE failed_task_history (
  id TEXT PRIMARY KEY,                 -- ULID
  queue TEXT NOT NULL,
  event_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('failure','replay','resolved','superseded','quarantined')),
  at TEXT NOT NULL,
  dedupe_key TEXT NOT NULL,            -- the delivery (failure) or the replay that this line records
  job_id TEXT,
  actor TEXT,
  mode TEXT,
  error_code TEXT,
  error_message TEXT,
  message_id TEXT,
  group_id TEXT,                       -- failures: the group they were counted in
  batch TEXT,                          -- failures: the dead-letter batch that recorded them (counts groups exactly once)
  UNIQUE (queue, event_id, kind, dedupe_key)
);
CREATE INDEX failed_task_history_task_idx ON failed_task_history (queue, event_id, id);
CREATE INDEX failed_task_history_batch_idx ON failed_task_history (batch) WHERE batch IS NOT NULL;

-- A replay plan is a dry run whose selection is frozen: executing it replays exactly these tasks.
CREATE TABLE replay_plans (
  id TEXT PRIMARY KEY,                 -- ULID
  queue TEXT NOT NULL,
  mode TEXT NOT NULL CHECK (mode IN ('original','refresh')),
  override INTEGER NOT NULL,
  filter TEXT NOT NULL,                -- JSON, as given
  total INTEGER NOT NULL,
  superseded INTEGER NOT NULL,         -- already superseded when planned: resolved without sending
  to_send INTEGER NOT NULL,
  skipped INTEGER NOT NULL,            -- would be left alone (e.g. the source no longer has the row)
  quarantined_excluded INTEGER NOT NULL,
  replaying_excluded INTEGER NOT NULL, -- still in flight when planned: only selected with status replaying
  by_entity TEXT NOT NULL,             -- JSON
  by_error TEXT NOT NULL,              -- JSON
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  job_id TEXT UNIQUE                   -- set once, when executed: a plan runs at most once
);

-- The frozen selection, and what the job did with each task.
CREATE TABLE replay_plan_items (
  plan_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  task_id TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','sent','superseded','skipped')),
  detail TEXT,                         -- why skipped
  done_at TEXT,
  PRIMARY KEY (plan_id, seq)
) WITHOUT ROWID;
CREATE INDEX replay_plan_items_state_idx ON replay_plan_items (plan_id, state, seq);

-- Replay jobs: asynchronous, rate-limited, cancellable. A partial unique index allows one
-- running job per work queue. The lease stops two runners working one job at once.
CREATE TABLE replay_jobs (
  id TEXT PRIMARY KEY,                 -- ULID
  plan_id TEXT NOT NULL UNIQUE,
  queue TEXT NOT NULL,
  mode TEXT NOT NULL,
  override INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running','completed','cancelled','failed')),
  rate_per_second INTEGER NOT NULL,
  total INTEGER NOT NULL,
  sent INTEGER NOT NULL DEFAULT 0,
  superseded INTEGER NOT NULL DEFAULT 0,
  skipped INTEGER NOT NULL DEFAULT 0,
  reason TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  cancelled_by TEXT,
  last_error TEXT,
  lease_until TEXT,
  last_tick_at TEXT,
  next_send_at TEXT                    -- rate limit across ticks: the next chunk may not start earlier
);
CREATE UNIQUE INDEX replay_jobs_one_running_per_queue ON replay_jobs (queue) WHERE status = 'running';
CREATE INDEX replay_jobs_status_idx ON replay_jobs (status, id);

-- Every operator action: who, when, why and what it selected. Append-only.
CREATE TABLE operator_audit (
  id TEXT PRIMARY KEY,                 -- ULID
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  reason TEXT,
  target_type TEXT NOT NULL,
  target_id TEXT NOT NULL,
  selection TEXT,                      -- JSON
  result TEXT                          -- JSON
);
CREATE INDEX operator_audit_actor_idx ON operator_audit (actor, id);
CREATE INDEX operator_audit_target_idx ON operator_audit (target_id, id);
