-- Replicas of Supabase-authoritative entities. Values come only from events (consumers/), so
-- there are no defaults, triggers or foreign keys: events arrive in any order.
-- Timestamps are TEXT in UTC ISO 8601 with milliseconds and Z; booleans are 0/1.

CREATE TABLE prospects (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  city TEXT, country TEXT, contact_name TEXT, contact_email TEXT, contact_title TEXT,
  phone TEXT, website TEXT, linkedin_url TEXT,
  stage TEXT NOT NULL,
  tier TEXT,
  score INTEGER NOT NULL,
  lead_source TEXT,
  email_bounced INTEGER NOT NULL,
  archived INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version INTEGER NOT NULL
);
CREATE INDEX prospects_contact_email_idx ON prospects (lower(contact_email));

CREATE TABLE campaigns (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  mailbox_id TEXT,
  subject_template TEXT,
  body_template TEXT,
  daily_limit INTEGER NOT NULL,
  timezone TEXT NOT NULL,
  started_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version INTEGER NOT NULL
);

CREATE TABLE mailboxes (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL,
  display_name TEXT,
  provider TEXT NOT NULL,
  status TEXT NOT NULL,
  daily_limit INTEGER NOT NULL,
  health_score INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version INTEGER NOT NULL
);

CREATE TABLE inbox_items (
  id TEXT PRIMARY KEY,
  mailbox_id TEXT NOT NULL,
  prospect_id TEXT,
  email_id TEXT,
  message_id TEXT,
  from_email TEXT NOT NULL,
  subject TEXT,
  snippet TEXT,
  category TEXT,
  is_read INTEGER NOT NULL,
  received_at TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version INTEGER NOT NULL
);

-- Tombstones of replica rows deleted by events, so an older upsert arriving late cannot
-- resurrect the row. Keep them longer than queue retention (at most 14 days).
CREATE TABLE sync_tombstones (
  entity TEXT NOT NULL,
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  deleted_at TEXT NOT NULL,
  PRIMARY KEY (entity, id)
) WITHOUT ROWID;
