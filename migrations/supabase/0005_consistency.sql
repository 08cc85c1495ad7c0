-- Functions behind reconciliation, backfill, integrity checks and sync status
-- (src/services/reconcile.ts, backfill.ts, integrity.ts, sync-status.ts).

-- A page of a synced table in key order: rows with p_after < id <= p_until (either bound null =
-- open), at most p_limit. Used to read the authoritative side (backfill, reconcile) and the
-- Supabase replica (reconcile of emails).
create or replace function public.sync_read_page(p_entity text, p_after uuid, p_until uuid, p_limit integer) returns jsonb
language plpgsql stable security definer set search_path = '' as $$
declare
  v_rows jsonb;
begin
  if not exists (select 1 from sync.replica_tables where entity = p_entity)
     and not exists (select 1 from pg_trigger where tgname = 'sync_record_change' and tgrelid = to_regclass(format('public.%I', p_entity))) then
    raise exception 'NOT_SYNCED: % is not a synced table', p_entity using errcode = '22023';
  end if;
  execute format($sql$
    select coalesce(jsonb_agg(to_jsonb(t) order by t.id), '[]'::jsonb)
      from (select * from public.%I
             where ($1::uuid is null or id > $1) and ($2::uuid is null or id <= $2)
             order by id limit greatest(1, least($3, 5000))) t
  $sql$, p_entity) into v_rows using p_after, p_until, p_limit;
  return v_rows;
end $$;

-- Repairs of the Supabase replica found by reconciliation. Unlike sync_apply_batch (which only
-- moves forward by version), a repair makes the row equal to the source image even at the same
-- version (an out-of-band edit), but only if the row is still as reconciliation saw it
-- (compare-and-set on the observed version; null = it was absent), so a live event that landed
-- meanwhile is never overwritten.
-- p_repairs: [{ "op": "put"|"remove", "id": uuid, "expected": version|null, "row": {…}|null }]
-- Returns the number of rows changed.
create or replace function public.sync_repair_batch(p_entity text, p_repairs jsonb) returns integer
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_cols text;
  v_set text;
  v_changed integer := 0;
  v_n integer;
begin
  if not exists (select 1 from sync.replica_tables where entity = p_entity) then
    raise exception 'NOT_A_REPLICA: % is not replicated into this database', p_entity using errcode = '22023';
  end if;
  select c.cols, c.set_list into v_cols, v_set from sync.column_lists(p_entity) c;

  execute format($sql$
    insert into public.%1$I as r (%2$s)
    select (p).* from (
      select jsonb_populate_record(null::public.%1$I, e -> 'row') as p, e -> 'expected' as expected
        from jsonb_array_elements($1) e where e ->> 'op' = 'put') x
    on conflict (id) do update set %3$s
     where r.version = (select (e ->> 'expected')::bigint from jsonb_array_elements($1) e
                         where e ->> 'op' = 'put' and (e ->> 'id')::uuid = r.id)
  $sql$, p_entity, v_cols, v_set) using p_repairs;
  get diagnostics v_n = row_count;
  v_changed := v_changed + v_n;

  execute format($sql$
    with gone as (
      delete from public.%1$I r using jsonb_array_elements($1) e
       where e ->> 'op' = 'remove' and (e ->> 'id')::uuid = r.id and r.version = (e ->> 'expected')::bigint
      returning r.id, r.version)
    insert into sync.tombstones as t (entity, id, version) select %2$L, id, version from gone
    on conflict (entity, id) do update set version = greatest(t.version, excluded.version), deleted_at = now()
  $sql$, p_entity, p_entity) using p_repairs;
  get diagnostics v_n = row_count;
  return v_changed + v_n;
end $$;

-- Row counts of every synced table and, per entity, the change-log backlog after the sweep cursor.
create or replace function public.sync_status(p_cursor_txid text, p_cursor_seq bigint) returns jsonb
language plpgsql stable security definer set search_path = '' as $$
declare
  v_counts jsonb := '{}'::jsonb;
  v_table text;
  v_n bigint;
begin
  for v_table in
    select entity from sync.replica_tables
    union
    select c.relname from pg_trigger g join pg_class c on c.oid = g.tgrelid
     where g.tgname = 'sync_record_change'
  loop
    execute format('select count(*) from public.%I', v_table) into v_n;
    v_counts := v_counts || jsonb_build_object(v_table, v_n);
  end loop;
  return jsonb_build_object(
    'rows', v_counts,
    'change_log_backlog', (select coalesce(jsonb_object_agg(b.entity, b.n), '{}'::jsonb)
                             from (select l.entity, count(*) as n from sync.change_log l
                                    where (l.txid, l.seq) > (p_cursor_txid::xid8, p_cursor_seq) group by l.entity) b),
    'oldest_unswept_at', (select min(l.recorded_at) from sync.change_log l where (l.txid, l.seq) > (p_cursor_txid::xid8, p_cursor_seq)),
    'horizon', pg_snapshot_xmin(pg_current_snapshot())::text,
    'now', now());
end $$;

-- Integrity checks of seeds 000 and 001 on the Supabase side: each finding with a count and up
-- to 5 example ids.
create or replace function public.sync_integrity() returns jsonb
language sql stable security definer set search_path = '' as $$
  select jsonb_build_array(
    (select jsonb_build_object('check', 'duplicate_prospects', 'store', 'supabase',
              'count', count(*), 'examples', coalesce(jsonb_agg(d.email) filter (where d.n <= 5), '[]'::jsonb))
       from (select lower(contact_email) as email, row_number() over () as n
               from public.prospects where contact_email is not null
              group by lower(contact_email) having count(*) > 1) d),
    (select jsonb_build_object('check', 'orphaned_emails', 'store', 'supabase',
              'count', count(*), 'examples', coalesce(jsonb_agg(e.id) filter (where e.n <= 5), '[]'::jsonb))
       from (select e.id, row_number() over () as n from public.emails e
              where not exists (select 1 from public.prospects p where p.id = e.prospect_id)) e),
    (select jsonb_build_object('check', 'impossible_email_states', 'store', 'supabase',
              'count', count(*), 'examples', coalesce(jsonb_agg(e.id) filter (where e.n <= 5), '[]'::jsonb))
       from (select e.id, row_number() over () as n from public.emails e
              where (e.status not in ('pending', 'failed') and e.sent_at is null)) e)
  );
$$;

do $$
declare
  f text;
begin
  if exists (select 1 from pg_roles where rolname = 'anon') then
    foreach f in array array['sync_read_page(text, uuid, uuid, integer)', 'sync_repair_batch(text, jsonb)',
                             'sync_status(text, bigint)', 'sync_integrity()'] loop
      execute format('revoke execute on function public.%s from public, anon, authenticated', f);
      execute format('grant execute on function public.%s to service_role', f);
    end loop;
  end if;
end $$;
