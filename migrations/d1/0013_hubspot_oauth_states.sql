-- The OAuth `state` of each HubSpot connect that was started (core/hubspot/oauth-states.ts). The
-- state sent to HubSpot is this id signed with HMAC; the row makes it single use (consumed_at is
-- set by one conditional UPDATE, so two callbacks with one state cannot both proceed) and records
-- who started the connect, for the audit line written when the callback completes it.
-- Rows are pruned a day after they expire (by the next connect), so the table stays tiny.
CREATE TABLE hubspot_oauth_states (
  id TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  consumed_at TEXT,
  -- The redirect_uri sent to HubSpot: the code exchange must send exactly the same one.
  redirect_uri TEXT NOT NULL,
  actor TEXT NOT NULL,
  auth TEXT NOT NULL,
  token_id TEXT
) STRICT;
CREATE INDEX hubspot_oauth_states_expires_idx ON hubspot_oauth_states (expires_at);
