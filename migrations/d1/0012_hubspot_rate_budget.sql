-- HubSpot's request budget per portal, shared by every consumer that calls HubSpot for it: a token
-- bucket per kind ('general': 100 requests / 10 s published; 'search': a few per second). Each
-- request takes a token with one atomic upsert (producers/hubspot/d1-rate-budget.ts); the bucket's
-- size and refill rate come from the code, so changing them needs no migration.
CREATE TABLE hubspot_rate_budget (
  portal_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('general', 'search')),
  tokens REAL NOT NULL,
  updated_ms INTEGER NOT NULL,
  PRIMARY KEY (portal_id, kind)
) STRICT;
