-- Safe repairs, equal-version conflicts and the deliberate re-stamp after a point-in-time restore
-- (src/services/reconcile.ts, src/services/regressions.ts, consumers/apply-batch.ts).
-- Replaces sync_repair_batch (0005), sync_apply_batch (0003) and sync.stamp_version (0001).

-- Versions public.sync_restamp may jump to, for its own transaction only. Only the owner writes
-- here (schema sync is closed to the API roles), so no client can grant itself a jump: a
-- user-settable flag would have let anyone holding a policy push a row to 2^53 and wedge it.
create table if not exists sync.restamp_grants (
  txid xid8 not null,
  entity text not null,
  id uuid not null,
  version bigint not null,
  primary key (txid, entity, id)
);

-- BEFORE INSERT/UPDATE on an authoritative table, as in 0001, plus one deliberate exception: inside
-- public.sync_restamp the version may jump forward to exactly the value that function granted in
-- sync.restamp_grants for this transaction. SECURITY DEFINER as 0007 made it (a `create or
-- replace` resets that), so writes through the API keep working.
create or replace function sync.stamp_version() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if tg_op = 'INSERT' then
    new.version := coalesce(
      (select t.version from sync.source_tombstones t where t.entity = tg_table_name and t.id = new.id), 0) + 1;
    new.updated_at := now();
    new.created_at := coalesce(new.created_at, now());
    return new;
  end if;
  if new.id is distinct from old.id then
    raise exception 'IMMUTABLE_KEY: %.id cannot change', tg_table_name using errcode = '23514';
  end if;
  if new.version > old.version and exists (
    select 1 from sync.restamp_grants g
    where g.txid = pg_current_xact_id() and g.entity = tg_table_name and g.id = new.id and g.version = new.version
  ) then
    new.updated_at := now();
    new.created_at := old.created_at;
    return new;
  end if;
  new.version := old.version;
  new.updated_at := old.updated_at;
  new.created_at := old.created_at;
  if new is not distinct from old then
    return null;
  end if;
  new.version := old.version + 1;
  new.updated_at := now();
  return new;
end $$;

-- Repairs of the Supabase replica found by reconciliation: compare-and-set on the version
-- reconciliation saw (null = absent), and three guards against undoing live changes:
--   * a put never lowers a version (excluded.version >= r.version);
--   * a put never resurrects a row whose tombstone is at the same or a newer version (a delete
--     that landed between the read and the repair);
--   * a remove only deletes the row at the version that was seen.
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
    select (x.p).* from (
      select jsonb_populate_record(null::public.%1$I, e -> 'row') as p
        from jsonb_array_elements($1) e where e ->> 'op' = 'put') x
     where not exists (select 1 from sync.tombstones t
                        where t.entity = %4$L and t.id = (x.p).id and t.version >= (x.p).version)
    on conflict (id) do update set %3$s
     where r.version = (select (e ->> 'expected')::bigint from jsonb_array_elements($1) e
                         where e ->> 'op' = 'put' and (e ->> 'id')::uuid = r.id)
       and excluded.version >= r.version
  $sql$, p_entity, v_cols, v_set, p_entity) using p_repairs;
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

-- As in 0003, and per event a `conflict` flag: the replica holds exactly the event's version but
-- not the event's state (another image at that version, a tombstone where the event says the row
-- exists, or a row where the event says it was deleted). Only a restored or edited store can
-- produce that; the worker must not count such an event as applied (consumers/apply-batch.ts).
-- Also the held row's updated_at (null when a tombstone is what it holds): a stale event changed
-- far later than the newer row the replica holds reveals a version regression.
create or replace function public.sync_apply_batch(p_events jsonb) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_entity text;
  v_cols text;
  v_set text;
  v_out jsonb := '[]'::jsonb;
  v_part jsonb;
begin
  if jsonb_typeof(p_events) is distinct from 'array' then
    raise exception 'INVALID_BATCH: p_events must be a json array' using errcode = '22023';
  end if;

  for v_entity in select distinct e ->> 'entity' from jsonb_array_elements(p_events) e loop
    if not exists (select 1 from sync.replica_tables r where r.entity = v_entity) then
      raise exception 'NOT_A_REPLICA: % is not replicated into this database', v_entity using errcode = '22023';
    end if;

    select c.cols, c.set_list into v_cols, v_set from sync.column_lists(v_entity) c;

    if exists (select 1 from jsonb_array_elements(p_events) e where e ->> 'entity' = v_entity and e ->> 'op' = 'delete') then
      execute format($sql$
        insert into sync.tombstones as t (entity, id, version)
        select distinct on ((e -> 'key' ->> 'id')::uuid) %1$L, (e -> 'key' ->> 'id')::uuid, (e ->> 'version')::bigint
          from jsonb_array_elements($1) e
         where e ->> 'entity' = %1$L and e ->> 'op' = 'delete'
         order by (e -> 'key' ->> 'id')::uuid, (e ->> 'version')::bigint desc
        on conflict (entity, id) do update set version = excluded.version, deleted_at = now()
         where t.version < excluded.version
      $sql$, v_entity) using p_events;

      execute format($sql$
        delete from public.%1$I r using sync.tombstones t
         where t.entity = %2$L and t.id = r.id and t.version > r.version
           and r.id in (select (e -> 'key' ->> 'id')::uuid from jsonb_array_elements($1) e
                         where e ->> 'entity' = %2$L and e ->> 'op' = 'delete')
      $sql$, v_entity, v_entity) using p_events;
    end if;

    execute format($sql$
      insert into public.%1$I as r (%2$s)
      select (x.rec).* from (
        select distinct on (p.id) p as rec
          from jsonb_array_elements($1) e
         cross join lateral jsonb_populate_record(null::public.%1$I, e -> 'row') p
         where e ->> 'entity' = %3$L and e ->> 'op' = 'upsert'
         order by p.id, p.version desc
      ) x
      where not exists (select 1 from sync.tombstones t
                         where t.entity = %3$L and t.id = (x.rec).id and t.version >= (x.rec).version)
      on conflict (id) do update set %4$s where r.version < excluded.version
    $sql$, v_entity, v_cols, v_entity, v_set) using p_events;

    -- The content comparison goes through the table's row type on both sides, so formatting
    -- (offsets, numeric scale) cannot make equal rows look different.
    execute format($sql$
      select coalesce(jsonb_agg(jsonb_build_object(
               'event_id', e ->> 'id',
               'current_version', greatest(coalesce(r.version, 0), coalesce(t.version, 0)),
               'conflict', case
                 when e ->> 'op' = 'delete' then coalesce(r.version = (e ->> 'version')::bigint, false)
                 else greatest(coalesce(r.version, 0), coalesce(t.version, 0)) = (e ->> 'version')::bigint
                      and not coalesce(r.version = (e ->> 'version')::bigint
                                       and to_jsonb(r) = to_jsonb(jsonb_populate_record(null::public.%1$I, e -> 'row')), false)
               end,
               'updated_at', case when r.version >= coalesce(t.version, 0) then r.updated_at end)), '[]'::jsonb)
        from jsonb_array_elements($1) e
        left join public.%1$I r on r.id = (e -> 'key' ->> 'id')::uuid
        left join sync.tombstones t on t.entity = %2$L and t.id = (e -> 'key' ->> 'id')::uuid
       where e ->> 'entity' = %2$L
    $sql$, v_entity, v_entity) into v_part using p_events;
    v_out := v_out || v_part;
  end loop;
  return v_out;
end $$;

-- After a point-in-time restore: raises authoritative rows above what the replica holds
-- (p_rows: [{ "id": uuid, "above": n }], n = max(replica row version, replica tombstone version)),
-- so the re-stamped row is a new change (change log and webhook) that every replica applies.
-- The content is left as it is: the restored store is the truth. Rows already above `above`
-- (a live change meanwhile) are left alone. Returns [{ "id": uuid, "version": n }] of the rows
-- re-stamped.
create or replace function public.sync_restamp(p_entity text, p_rows jsonb) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_rows jsonb;
begin
  if not exists (select 1 from pg_trigger where tgname = 'sync_record_change' and tgrelid = to_regclass(format('public.%I', p_entity))) then
    raise exception 'NOT_AUTHORITATIVE: % is not an authoritative synced table', p_entity using errcode = '22023';
  end if;
  insert into sync.restamp_grants (txid, entity, id, version)
    select distinct on ((e ->> 'id')::uuid) pg_current_xact_id(), p_entity, (e ->> 'id')::uuid, (e ->> 'above')::bigint + 1
      from jsonb_array_elements(p_rows) e order by (e ->> 'id')::uuid, (e ->> 'above')::bigint desc;
  execute format($sql$
    with done as (update public.%I r set version = g.version from sync.restamp_grants g
                   where g.txid = pg_current_xact_id() and g.entity = %L and r.id = g.id and r.version < g.version
                   returning r.id, r.version)
    select coalesce(jsonb_agg(jsonb_build_object('id', id, 'version', version) order by id), '[]'::jsonb) from done
  $sql$, p_entity, p_entity) into v_rows;
  delete from sync.restamp_grants where txid = pg_current_xact_id();
  return v_rows;
end $$;

revoke execute on function public.sync_repair_batch(text, jsonb) from public;
revoke execute on function public.sync_apply_batch(jsonb) from public;
revoke execute on function public.sync_restamp(text, jsonb) from public;
do $$
declare
  f text;
begin
  if exists (select 1 from pg_roles where rolname = 'anon') then
    foreach f in array array['sync_repair_batch(text, jsonb)', 'sync_apply_batch(jsonb)', 'sync_restamp(text, jsonb)'] loop
      execute format('revoke execute on function public.%s from anon, authenticated', f);
      execute format('grant execute on function public.%s to service_role', f);
    end loop;
  end if;
end $$;

select sync.restrict_api_access();
