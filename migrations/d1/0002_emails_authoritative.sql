-- emails: authoritative in D1 (written by the sending worker through the email API), replicated
-- to Supabase through the to-supabase queue.

CREATE TABLE emails (
  id TEXT PRIMARY KEY,
  prospect_id TEXT NOT NULL,
  campaign_id TEXT,
  mailbox_id TEXT,
  direction TEXT NOT NULL CHECK (direction IN ('outbound','inbound')),
  to_email TEXT NOT NULL,
  from_email TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  message_id TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending','sent','delivered','opened','clicked','replied','bounced','failed')),
  sent_at TEXT, delivered_at TEXT, opened_at TEXT, clicked_at TEXT, replied_at TEXT, bounced_at TEXT, failed_at TEXT,
  error TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version INTEGER NOT NULL CHECK (version >= 1),
  -- Seed 000: no impossible states such as "sent" without sent_at.
  CHECK (status <> 'failed' OR failed_at IS NOT NULL),
  CHECK (status IN ('pending','failed') OR sent_at IS NOT NULL),
  CHECK (status <> 'delivered' OR delivered_at IS NOT NULL),
  CHECK (status <> 'opened' OR opened_at IS NOT NULL),
  CHECK (status <> 'clicked' OR clicked_at IS NOT NULL),
  CHECK (status <> 'replied' OR replied_at IS NOT NULL),
  CHECK (status <> 'bounced' OR bounced_at IS NOT NULL)
);
CREATE INDEX emails_prospect_idx ON emails (prospect_id);
CREATE UNIQUE INDEX emails_message_id_idx ON emails (message_id) WHERE message_id IS NOT NULL;

-- Allowed status moves (schemas/entities/emails.ts holds the same pairs; a test checks they agree).
CREATE TABLE email_status_transitions (
  from_status TEXT NOT NULL,
  to_status TEXT NOT NULL,
  PRIMARY KEY (from_status, to_status)
) WITHOUT ROWID;
INSERT INTO email_status_transitions (from_status, to_status) VALUES
  ('pending','sent'), ('pending','failed'),
  ('sent','delivered'), ('sent','bounced'), ('sent','opened'),
  ('delivered','opened'), ('delivered','clicked'), ('delivered','replied'), ('delivered','bounced'),
  ('opened','clicked'), ('opened','replied'),
  ('clicked','replied'),
  ('failed','pending');

-- Defence in depth: whatever writes emails, the status machine and the version rule hold.
CREATE TRIGGER emails_enforce_transition BEFORE UPDATE OF status ON emails
WHEN NEW.status <> OLD.status AND NOT EXISTS (
  SELECT 1 FROM email_status_transitions t WHERE t.from_status = OLD.status AND t.to_status = NEW.status)
BEGIN
  SELECT RAISE(ABORT, 'INVALID_TRANSITION');
END;

CREATE TRIGGER emails_require_version_bump BEFORE UPDATE ON emails
WHEN NEW.version <> OLD.version + 1
BEGIN
  SELECT RAISE(ABORT, 'VERSION_NOT_BUMPED');
END;

-- Outbox: every email change writes its event row in the same transaction (these triggers), so a
-- committed change can never miss its event. The API publishes right after the write; a sweep
-- republishes rows whose published_at is still null.
CREATE TABLE sync_outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  entity TEXT NOT NULL,
  row_id TEXT NOT NULL,
  op TEXT NOT NULL CHECK (op IN ('upsert','delete')),
  version INTEGER NOT NULL,
  row_image TEXT,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  published_at TEXT
);
CREATE INDEX sync_outbox_unpublished_idx ON sync_outbox (seq) WHERE published_at IS NULL;

-- The full row image of an email, as events carry it: one definition for both triggers below.
CREATE VIEW email_images AS
SELECT id, version, json_object('id', id, 'prospect_id', prospect_id, 'campaign_id', campaign_id,
  'mailbox_id', mailbox_id, 'direction', direction, 'to_email', to_email, 'from_email', from_email,
  'subject', subject, 'body', body, 'message_id', message_id, 'status', status, 'sent_at', sent_at,
  'delivered_at', delivered_at, 'opened_at', opened_at, 'clicked_at', clicked_at, 'replied_at', replied_at,
  'bounced_at', bounced_at, 'failed_at', failed_at, 'error', error, 'created_at', created_at,
  'updated_at', updated_at, 'version', version) AS image
FROM emails;

CREATE TRIGGER emails_outbox_insert AFTER INSERT ON emails
BEGIN
  INSERT INTO sync_outbox (entity, row_id, op, version, row_image)
  SELECT 'emails', id, 'upsert', version, image FROM email_images WHERE id = NEW.id;
END;

CREATE TRIGGER emails_outbox_update AFTER UPDATE ON emails
BEGIN
  INSERT INTO sync_outbox (entity, row_id, op, version, row_image)
  SELECT 'emails', id, 'upsert', version, image FROM email_images WHERE id = NEW.id;
END;

CREATE TRIGGER emails_outbox_delete AFTER DELETE ON emails
BEGIN
  INSERT INTO sync_outbox (entity, row_id, op, version, row_image) VALUES ('emails', OLD.id, 'delete', OLD.version + 1, NULL);
END;
