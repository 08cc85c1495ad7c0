-- Issue 14: statement-level capture. Safe on a real Supabase project (no superuser; pg_net is
-- Supabase's own extension, in schema `net`).
--
-- A Supabase Database Webhook is a row-level trigger: a 10,000-row UPDATE is 10,000 HTTP requests.
-- sync.capture_statement() is the function of `after … for each statement` triggers with a
-- transition table: it posts the statement's rows through pg_net in a few chunks, each one request
-- to the worker's batch endpoint (POST <webhook url>/batch). The triggers themselves are created by
-- `npm run webhooks:sql` (tools/deploy/webhooks-sql.ts), because they carry the worker's URL and
-- secret, as a dashboard webhook's trigger does; this migration only creates the function.
--
-- Nothing here replaces the change log: sync.record_change() still writes every row in the same
-- transaction and the sweep republishes whatever this fast path does not deliver. pg_net is at
-- most once (its queue is unlogged; no retry), so this path may lose a chunk, never a change.
--
-- Trigger arguments (text, as trigger arguments are):
--   0 url            the worker's batch endpoint
--   1 headers        jsonb: Content-Type and `Authorization: Bearer <WEBHOOK_SECRET>`
--   2 timeout_ms     pg_net request timeout
--   3 max_rows       rows per request at most
--   4 max_bytes      budget for the rows of one request, in bytes of their jsonb text; a request
--                    carries at most max_bytes + one row (the row that crosses the budget)
--   5 max_row_bytes  a row larger than this can never be one queue message (MAX_EVENT_BYTES):
--                    it is left out of the requests (counted in `skipped`); the sweep meets it in
--                    the change log and records it in failed_tasks as EVENT_TOO_LARGE, as it does
--                    for a row-level webhook the worker refused
-- The transition table must be named `sync_new` (INSERT, UPDATE) or `sync_old` (DELETE).
--
-- Payload of one request (jsonb; pg_net sends its text):
--   INSERT / UPDATE: {"type","schema","table","chunk","chunks","skipped","records":[<row>, …]}
--   DELETE:          {"type","schema","table","chunk","chunks","skipped","old_records":[{"id","version"}, …]}
-- An UPDATE sends only the after-images: events are state transfer (full row + version), so the
-- before-images would be bytes for nothing. A DELETE sends key and version, all its event needs.
--
-- A failure of capture (pg_net missing or broken, a statement too large to sort) must not fail
-- the user's write: the write and its change-log rows commit, a WARNING is logged, and the sweep
-- delivers the changes. The EXCEPTION block is one subtransaction per statement, not per row. A
-- statement that changes no row sends nothing (no chunk).
create or replace function sync.capture_statement() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  v_url text := tg_argv[0];
  v_headers jsonb;
  v_timeout integer;
  v_max_rows integer;
  v_max_bytes integer;
  v_max_row_bytes integer;
  v_chunk jsonb;
  v_n bigint;
  v_chunks bigint;
  v_skipped bigint;
begin
  -- Everything is inside the EXCEPTION block, even reading the trigger's arguments, so nothing
  -- capture does (a hand-edited trigger, a statement too large to sort in memory, pg_net missing)
  -- can refuse the write.
  begin
    v_headers := tg_argv[1]::jsonb;
    v_timeout := tg_argv[2]::integer;
    v_max_rows := tg_argv[3]::integer;
    v_max_bytes := tg_argv[4]::integer;
    v_max_row_bytes := tg_argv[5]::integer;
    if v_url is null or v_max_rows < 1 or v_max_bytes < v_max_rows or v_max_row_bytes < 1 then
      raise exception 'trigger arguments: needs a url, max_rows >= 1, max_bytes >= max_rows and max_row_bytes >= 1';
    end if;
    -- Chunks, in one query over the transition table (EXECUTE, because only one of sync_new /
    -- sync_old exists per trigger): with a bucket of b = max_rows * floor(max_bytes / max_rows)
    -- bytes (≤ max_bytes, a multiple of max_rows), a row costs its bytes but at least
    -- b / max_rows, and a chunk is the rows whose cost before them falls in the same bucket. So a
    -- chunk holds at most max_rows rows (their starts are at least b / max_rows apart) and at most
    -- max_bytes plus the one row that crosses its end; small rows fill chunks of exactly max_rows.
    -- Only one chunk's rows are aggregated at a time: no jsonb of the whole statement, whose size
    -- jsonb would cap (256 MB) and memory would have to hold.
    --   with sized as (select <image> as rec, i, octet_length(<image>::text) as bytes from sync_new|sync_old),
    --   kept as (select rec, i, sum(greatest(bytes, b / max_rows)) over (order by i rows … 1 preceding) / b as chunk
    --              from sized where bytes <= max_row_bytes),
    --   grouped as (select chunk, jsonb_agg(rec order by i) from kept group by chunk)
    --   select rows, chunk number, chunk count, rows over max_row_bytes from grouped order by chunk
    for v_chunk, v_n, v_chunks, v_skipped in execute format($q$
      with sized as (
        select x.rec, x.i, octet_length(x.rec::text) as bytes
          from (select %s as rec, row_number() over () as i from %I t) x
      ), kept as (
        select rec, i,
               coalesce(sum(greatest(bytes, $2 / $1))
                          over (order by i rows between unbounded preceding and 1 preceding), 0)
                 / ($1 * ($2 / $1)) as chunk
          from sized where bytes <= $3
      ), grouped as (
        select chunk, jsonb_agg(rec order by i) as recs from kept group by chunk
      )
      select g.recs, row_number() over (order by g.chunk), count(*) over (),
             (select count(*) from sized where bytes > $3)
        from grouped g order by g.chunk
      $q$,
      case when tg_op = 'DELETE' then $e$jsonb_build_object('id', t.id, 'version', t.version)$e$ else 'to_jsonb(t)' end,
      case when tg_op = 'DELETE' then 'sync_old' else 'sync_new' end)
      using v_max_rows, v_max_bytes, v_max_row_bytes
    loop
      perform net.http_post(
        url => v_url,
        body => jsonb_build_object(
          'type', tg_op,
          'schema', tg_table_schema,
          'table', tg_table_name,
          'chunk', v_n,
          'chunks', v_chunks,
          'skipped', v_skipped,
          case when tg_op = 'DELETE' then 'old_records' else 'records' end, v_chunk
        ),
        headers => v_headers,
        timeout_milliseconds => v_timeout
      );
    end loop;
  exception when others then
    raise warning 'supabase-d1-sync: statement capture on %.% could not queue its requests (%: %); the change-log sweep will deliver these changes',
      tg_table_schema, tg_table_name, sqlstate, sqlerrm;
  end;
  return null;
end $$;

select sync.restrict_api_access();
