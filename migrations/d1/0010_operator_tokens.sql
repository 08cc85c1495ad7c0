-- Per-operator tokens: the admin token is shared, so `x-operator` can only claim who acted. A
-- token of one's own proves it (src/services/operator-tokens.ts, src/http/admin-auth.ts).
--
-- Only the SHA-256 of a token is stored, never the token: it is shown once, when created. A plain
-- hash (no salt, no slow KDF) is enough because a token is 32 random bytes, not a password: there
-- is nothing to guess, and the hash can be looked up by index.
CREATE TABLE operator_tokens (
  id TEXT PRIMARY KEY,                 -- ULID; names the token in lists, the audit trail and revoke
  operator TEXT NOT NULL,              -- the identity the token proves
  token_hash TEXT NOT NULL UNIQUE,     -- lowercase hex SHA-256 of the whole token (prefix included)
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  expires_at TEXT,                     -- null: until revoked
  last_used_at TEXT,                   -- refreshed at most once a minute (a write per request would cost more than it tells)
  revoked_at TEXT,
  revoked_by TEXT
);
CREATE INDEX operator_tokens_operator_idx ON operator_tokens (operator, id);

-- How the actor of an audit line was known: `admin-token` (the shared secret; the name is only
-- what x-operator claimed), `operator-token` (proven by the operator's own token, `token_id`) or
-- `access-jwt` (proven by a Cloudflare Access JWT). Every line before this migration was written
-- with the shared admin token.
ALTER TABLE operator_audit ADD COLUMN auth TEXT NOT NULL DEFAULT 'admin-token' CHECK (auth IN ('admin-token','operator-token','access-jwt'));
ALTER TABLE operator_audit ADD COLUMN token_id TEXT;
