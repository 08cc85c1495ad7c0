-- Reading the change log for the sweep (producers/change-log-sweep.ts).
--
-- Why a transaction-id horizon and not a seq cursor: seq values are taken when a row is written,
-- not when its transaction commits, so a transaction that took seq 10 and commits after another
-- that took seq 11 would be skipped by "seq > last seen". Here the sweep only reads entries of
-- transactions below pg_snapshot_xmin(pg_current_snapshot()): every transaction with a smaller id
-- has finished (committed or rolled back), so that part of the log can no longer change, and
-- walking it in (txid, seq) order with a cursor never skips an entry. A transaction still open
-- holds the horizon back; its entries are read once it ends.
create or replace function public.sync_changes_after(p_txid text, p_seq bigint, p_limit integer) returns jsonb
language sql volatile security definer set search_path = '' as $$
  with horizon as (select pg_snapshot_xmin(pg_current_snapshot()) as xmin)
  select jsonb_build_object(
    'horizon', (select xmin::text from horizon),
    'now', now(),
    'entries', coalesce((
      select jsonb_agg(jsonb_build_object(
               'txid', c.txid::text, 'seq', c.seq, 'entity', c.entity, 'row_id', c.row_id, 'op', c.op,
               'version', c.version, 'row', c.row_image, 'recorded_at', c.recorded_at) order by c.txid, c.seq)
        from (select l.*
                from sync.change_log l, horizon h
               where (l.txid, l.seq) > (p_txid::xid8, p_seq) and l.txid < h.xmin
               order by l.txid, l.seq
               limit greatest(1, least(p_limit, 5000))) c), '[]'::jsonb));
$$;

-- Retention: change-log entries the sweep has passed and that are older than p_keep, and replica
-- tombstones older than p_keep. p_keep must exceed queue retention (Cloudflare: at most 14 days)
-- so a late event can still meet its tombstone. Source tombstones (sync.source_tombstones) are
-- kept: they make a re-created id continue above its old versions.
create or replace function public.sync_prune(p_keep interval, p_cursor_txid text, p_cursor_seq bigint) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_log bigint;
  v_tomb bigint;
begin
  if p_keep < interval '15 days' then
    raise exception 'RETENTION_TOO_SHORT: keep at least 15 days (queue retention is up to 14)' using errcode = '22023';
  end if;
  delete from sync.change_log
   where recorded_at < now() - p_keep and (txid, seq) <= (p_cursor_txid::xid8, p_cursor_seq);
  get diagnostics v_log = row_count;
  delete from sync.tombstones where deleted_at < now() - p_keep;
  get diagnostics v_tomb = row_count;
  return jsonb_build_object('change_log', v_log, 'tombstones', v_tomb);
end $$;

do $$
begin
  if exists (select 1 from pg_roles where rolname = 'anon') then
    revoke execute on function public.sync_changes_after(text, bigint, integer) from public, anon, authenticated;
    revoke execute on function public.sync_prune(interval, text, bigint) from public, anon, authenticated;
    grant execute on function public.sync_changes_after(text, bigint, integer) to service_role;
    grant execute on function public.sync_prune(interval, text, bigint) to service_role;
  end if;
end $$;
