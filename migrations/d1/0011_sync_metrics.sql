-- Throughput and lag of the work queues, per minute (then per hour), per queue and entity: what the
-- console's charts draw (src/http/console/charts/). Written by the work-queue consumers, one upsert
-- per batch folded into the batch's bookkeeping transaction (core/metrics/batch-metrics.ts: no
-- extra round trip); rolled up and pruned by the hourly cron (src/services/metrics-retention.ts).
--
-- Bounded: minute rows older than METRICS_MINUTE_RETENTION_HOURS (2) are summed into hour rows,
-- hour rows older than METRICS_HOUR_RETENTION_DAYS (30) are deleted. With the hourly cron that is at
-- most (2 h + 1 h between runs) x 60 minute rows + (30 d x 24 + 1) hour rows per (queue, entity)
-- pair seen: (180 + 721) x 12 pairs (2 queues x (5 entities + '?')) = 10,812 rows, under 2 MB.
--
-- Lag is a histogram with fixed log-scale buckets (core/metrics/lag-histogram.ts: lag_i counts
-- events whose commit-to-applied lag is at most LAG_BOUNDS_MS[i] and above the previous bound;
-- lag_19 everything above the last), so sums stay exact and p50/p99 can be computed after the
-- roll-up. No CHECK constraints on purpose: this row shares a transaction with bookkeeping that
-- matters more (replay settlement), and a metrics write must not be able to refuse it.
CREATE TABLE sync_metrics (
  span INTEGER NOT NULL,               -- seconds the bucket covers: 60 (minute) or 3600 (hour)
  bucket_start INTEGER NOT NULL,       -- unix seconds, a multiple of span (what the charts plot)
  queue TEXT NOT NULL,                 -- the direction: to-d1 or to-supabase
  entity TEXT NOT NULL,                -- '?' for a message whose body names no entity
  applied INTEGER NOT NULL DEFAULT 0,  -- events written to the replica
  stale INTEGER NOT NULL DEFAULT 0,    -- duplicates and superseded events (replica already newer)
  failed INTEGER NOT NULL DEFAULT 0,   -- failed attempts (retried or dead-lettered)
  lag_0 INTEGER NOT NULL DEFAULT 0,
  lag_1 INTEGER NOT NULL DEFAULT 0,
  lag_2 INTEGER NOT NULL DEFAULT 0,
  lag_3 INTEGER NOT NULL DEFAULT 0,
  lag_4 INTEGER NOT NULL DEFAULT 0,
  lag_5 INTEGER NOT NULL DEFAULT 0,
  lag_6 INTEGER NOT NULL DEFAULT 0,
  lag_7 INTEGER NOT NULL DEFAULT 0,
  lag_8 INTEGER NOT NULL DEFAULT 0,
  lag_9 INTEGER NOT NULL DEFAULT 0,
  lag_10 INTEGER NOT NULL DEFAULT 0,
  lag_11 INTEGER NOT NULL DEFAULT 0,
  lag_12 INTEGER NOT NULL DEFAULT 0,
  lag_13 INTEGER NOT NULL DEFAULT 0,
  lag_14 INTEGER NOT NULL DEFAULT 0,
  lag_15 INTEGER NOT NULL DEFAULT 0,
  lag_16 INTEGER NOT NULL DEFAULT 0,
  lag_17 INTEGER NOT NULL DEFAULT 0,
  lag_18 INTEGER NOT NULL DEFAULT 0,
  lag_19 INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (span, bucket_start, queue, entity)
) WITHOUT ROWID;
