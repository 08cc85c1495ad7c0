-- Where each sweep has got to. For the Supabase change log: the (txid, seq) of the last entry
-- handled, below the horizon it was read under (see migrations/supabase/0004).
CREATE TABLE sync_cursors (
  name TEXT PRIMARY KEY,
  txid TEXT NOT NULL,
  seq INTEGER NOT NULL,
  horizon TEXT,
  last_run_at TEXT NOT NULL,
  scanned_total INTEGER NOT NULL DEFAULT 0,
  republished_total INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
