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
-- A failure to queue a request (pg_net missing or broken) must not fail the user's write: the
-- write and its change-log rows commit, a WARNING is logged, and the sweep delivers the change.
-- The EXCEPTION block is one subtransaction per statement, not per row.
create or replace function sync.capture_statement() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  v_url text := tg_argv[0];
  v_headers jsonb := tg_argv[1]::jsonb;
  v_timeout integer := tg_argv[2]::integer;
  v_max_rows integer := tg_argv[3]::integer;
  v_max_bytes integer := tg_argv[4]::integer;
  v_max_row_bytes integer := tg_argv[5]::integer;
  v_rows jsonb;
  v_chunks jsonb;
  v_skipped bigint;
  v_chunk jsonb;
  v_n bigint;
begin
  if v_max_rows < 1 or v_max_bytes < v_max_rows or v_max_row_bytes < 1 then
    raise exception 'sync.capture_statement: needs max_rows >= 1, max_bytes >= max_rows and max_row_bytes >= 1';
  end if;
  -- The statement's rows as one jsonb array. Only the branch that runs is planned, so the DELETE
  -- trigger (which has no sync_new) never meets the other query.
  if tg_op = 'DELETE' then
    select jsonb_agg(jsonb_build_object('id', o.id, 'version', o.version)) into v_rows from sync_old o;
  else
    select jsonb_agg(to_jsonb(n)) into v_rows from sync_new n;
  end if;
  if v_rows is null then
    return null; -- the statement changed no row: nothing to send
  end if;

  -- Chunks, in one pass: with a bucket of b = max_rows * floor(max_bytes / max_rows) bytes
  -- (≤ max_bytes, a multiple of max_rows), a row costs its bytes but at least b / max_rows, and a
  -- chunk is the rows whose cost before them falls in the same bucket. So a chunk holds at most
  -- max_rows rows (their starts are at least b / max_rows apart) and at most max_bytes plus the
  -- one row that crosses its end; small rows fill chunks of exactly max_rows.
  --   with sized as (select rec, i, octet_length(rec::text) as bytes from jsonb_array_elements(rows) with ordinality),
  --   kept as (select rec, i, sum(greatest(bytes, b / max_rows)) over (order by i rows … 1 preceding) / b as chunk
  --              from sized where bytes <= max_row_bytes)
  --   select jsonb_agg(the rows of each chunk in order, chunks in order), count(rows over max_row_bytes)
  with sized as (
    select e.rec, e.i, octet_length(e.rec::text) as bytes
      from jsonb_array_elements(v_rows) with ordinality as e(rec, i)
  ), kept as (
    select rec, i,
           coalesce(sum(greatest(bytes, v_max_bytes / v_max_rows))
                      over (order by i rows between unbounded preceding and 1 preceding), 0)
             / (v_max_rows * (v_max_bytes / v_max_rows)) as chunk
      from sized where bytes <= v_max_row_bytes
  ), grouped as (
    select chunk, jsonb_agg(rec order by i) as recs from kept group by chunk
  )
  select coalesce((select jsonb_agg(g.recs order by g.chunk) from grouped g), '[]'::jsonb),
         (select count(*) from sized where bytes > v_max_row_bytes)
    into v_chunks, v_skipped;

  begin
    for v_chunk, v_n in
      select c.value, c.n from jsonb_array_elements(v_chunks) with ordinality as c(value, n) order by c.n
    loop
      perform net.http_post(
        url => v_url,
        body => jsonb_build_object(
          'type', tg_op,
          'schema', tg_table_schema,
          'table', tg_table_name,
          'chunk', v_n,
          'chunks', jsonb_array_length(v_chunks),
          'skipped', v_skipped,
          case when tg_op = 'DELETE' then 'old_records' else 'records' end, v_chunk
        ),
        headers => v_headers,
        timeout_milliseconds => v_timeout
      );
    end loop;
  exception when others then
    raise warning 'supabase-d1-sync: statement capture on %.% could not queue its request (%: %); the change-log sweep will deliver these changes',
      tg_table_schema, tg_table_name, sqlstate, sqlerrm;
  end;
  return null;
end $$;

select sync.restrict_api_access();
