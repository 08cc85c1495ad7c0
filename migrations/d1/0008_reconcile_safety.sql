-- Reconciliation and backfill report what they could not do instead of stopping at it, and
-- version regressions (a source restored to an older point in time) are kept until an operator
-- resolves them (src/services/reconcile.ts, backfill.ts, regressions.ts).

-- invalid: source rows our schema or the replica refused (reported, skipped, the run goes on).
-- regressed: source rows older than what the replica holds (row or tombstone); never repaired silently.
-- problems: JSON array of {id, kind, code, reason, ...} for those rows, capped per run.
ALTER TABLE sync_reconcile_runs ADD COLUMN invalid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_reconcile_runs ADD COLUMN regressed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_reconcile_runs ADD COLUMN problems TEXT;

-- failed: rows the registry or the replica refused during the backfill (each also in failed_tasks).
ALTER TABLE sync_backfills ADD COLUMN failed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_backfills ADD COLUMN problems TEXT;

-- Rows whose authoritative version is below the replica's version or tombstone: every later
-- change of such a row would be ignored as stale. Found by reconciliation, resolved deliberately
-- by an operator (POST /v1/admin/regressions/resolve re-stamps the source above the replica).
CREATE TABLE sync_regressions (
  entity TEXT NOT NULL,
  id TEXT NOT NULL,
  source_version INTEGER NOT NULL,
  replica_version INTEGER NOT NULL,    -- max(row version, tombstone version) in the replica
  replica_state TEXT NOT NULL CHECK (replica_state IN ('row','tombstone')),
  run_id TEXT,                         -- the reconciliation run that last saw it
  first_seen_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open','resolved')),
  resolved_at TEXT,
  resolved_by TEXT,
  resolved_version INTEGER,            -- the source version after the re-stamp
  PRIMARY KEY (entity, id)
) WITHOUT ROWID;
CREATE INDEX sync_regressions_open_idx ON sync_regressions (status, entity, id);
