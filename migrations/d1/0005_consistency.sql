-- Reconciliation runs: what each run compared, found and repaired, and where a partial run stopped.
CREATE TABLE sync_reconcile_runs (
  id TEXT PRIMARY KEY,                 -- ULID
  entity TEXT NOT NULL,
  trigger TEXT NOT NULL,               -- 'cron' | 'api'
  repair INTEGER NOT NULL,             -- 0 = report only
  started_at TEXT NOT NULL,
  finished_at TEXT,
  status TEXT NOT NULL CHECK (status IN ('running','complete','partial','failed')),
  rows_checked INTEGER NOT NULL DEFAULT 0,
  pages INTEGER NOT NULL DEFAULT 0,
  pages_differing INTEGER NOT NULL DEFAULT 0,
  missing INTEGER NOT NULL DEFAULT 0,  -- in the source, absent or older in the replica
  extra INTEGER NOT NULL DEFAULT 0,    -- in the replica, not in the source
  altered INTEGER NOT NULL DEFAULT 0,  -- same id, different content (out-of-band edit or newer replica)
  repaired INTEGER NOT NULL DEFAULT 0,
  skipped INTEGER NOT NULL DEFAULT 0,  -- changed by a live event meanwhile; the next run re-checks
  examples TEXT,                       -- JSON: a few ids per kind
  resume_after TEXT,                   -- last id compared when the run stopped at its row budget
  error TEXT
);
CREATE INDEX sync_reconcile_runs_entity_idx ON sync_reconcile_runs (entity, id);

-- Backfills (full resync of a replica from its source): resumable by cursor.
CREATE TABLE sync_backfills (
  entity TEXT PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('running','complete')),
  cursor TEXT,                         -- last id copied
  copied INTEGER NOT NULL DEFAULT 0,
  applied INTEGER NOT NULL DEFAULT 0,  -- rows the replica held at the source's version after their page
  total_estimate INTEGER,
  started_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  finished_at TEXT
) WITHOUT ROWID;

-- Integrity check runs (seeds 000/001): findings with counts and examples.
CREATE TABLE sync_integrity_runs (
  id TEXT PRIMARY KEY,                 -- ULID
  trigger TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL,
  issues INTEGER NOT NULL,             -- total count over all findings
  findings TEXT NOT NULL               -- JSON array of {check, store, entity?, count, examples}
);
