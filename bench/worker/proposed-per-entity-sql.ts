/**
 * Issue 14's proposal, measured and REJECTED (not in migrations/): the to-supabase apply through
 * plpgsql functions generated per entity (static SQL, which plpgsql prepares once per connection),
 * instead of sync_apply_batch's format() + EXECUTE, which parses and plans its statements on every
 * call. bench/profile-postgres.ts creates it in its scratch database only (the entry point as
 * bench.sync_apply_batch_per_entity; sync.apply_<entity>, sync.apply_entity_generic and
 * sync.apply_functions beside the real ones there) and times it next to public.sync_apply_batch.
 * It was barely faster warm and slower on a new backend (batch 100, medians of 60 calls, one run
 * of the profiler: warm 9.59 against 10.05 ms for public.sync_apply_batch (migration 0010); new backend
 * 25.00 against 24.23 ms; an earlier run against the generic statements alone: 9.80 against 9.87
 * and 23.49 against 21.16), so planning is not what bounds the function, and it was not kept: for
 * under 0.5 ms warm (what deployed Hyperdrive gives) it would add a generator, a
 * table and a staleness rule (a column added after generation) for nothing (bench/RESULTS.md).
 * It passed the apply-path tests while it was a migration (commit b126a25).
 * Kept so that the measurement can be repeated.
 */
export const PROPOSED_PER_ENTITY_SQL = `
create schema if not exists bench;
create table if not exists sync.apply_functions (
  entity text primary key references sync.replica_tables (entity) on delete cascade,
  columns integer not null,
  derived_columns text[] not null
);

-- 0010's per-entity body, for one entity: the fallback, and the reference the generated SQL copies.
create or replace function sync.apply_entity_generic(p_entity text, p_derived text[], p_events jsonb) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_cols text;
  v_set text;
  v_part jsonb;
begin
  select c.cols, c.set_list into v_cols, v_set from sync.column_lists(p_entity) c;

  if exists (select 1 from jsonb_array_elements(p_events) e where e ->> 'entity' = p_entity and e ->> 'op' = 'delete') then
    execute format($sql$
      insert into sync.tombstones as t (entity, id, version)
      select distinct on ((e -> 'key' ->> 'id')::uuid) %1$L, (e -> 'key' ->> 'id')::uuid, (e ->> 'version')::bigint
        from jsonb_array_elements($1) e
       where e ->> 'entity' = %1$L and e ->> 'op' = 'delete'
       order by (e -> 'key' ->> 'id')::uuid, (e ->> 'version')::bigint desc
      on conflict (entity, id) do update set version = excluded.version, deleted_at = now()
       where t.version < excluded.version
    $sql$, p_entity) using p_events;

    execute format($sql$
      delete from public.%1$I r using sync.tombstones t
       where t.entity = %2$L and t.id = r.id and t.version > r.version
         and r.id in (select (e -> 'key' ->> 'id')::uuid from jsonb_array_elements($1) e
                       where e ->> 'entity' = %2$L and e ->> 'op' = 'delete')
    $sql$, p_entity, p_entity) using p_events;
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
  $sql$, p_entity, v_cols, p_entity, v_set) using p_events;

  -- The content comparison goes through the table's row type on both sides, so formatting
  -- (offsets, numeric scale) cannot make equal rows look different. The answer is kept small
  -- (see the header): conflict only when true, updated_at only when the row held is newer.
  execute format($sql$
    select coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
             'event_id', e ->> 'id',
             'current_version', greatest(coalesce(r.version, 0), coalesce(t.version, 0)),
             'conflict', nullif(case
               when e ->> 'op' = 'delete' then coalesce(r.version = (e ->> 'version')::bigint, false)
               else greatest(coalesce(r.version, 0), coalesce(t.version, 0)) = (e ->> 'version')::bigint
                    and not coalesce(r.version = (e ->> 'version')::bigint
                                     and to_jsonb(r) - $2 = to_jsonb(jsonb_populate_record(null::public.%1$I, e -> 'row')) - $2, false)
             end, false),
             'updated_at', case when r.version >= coalesce(t.version, 0) and r.version > (e ->> 'version')::bigint
                                then r.updated_at end))), '[]'::jsonb)
      from jsonb_array_elements($1) e
      left join public.%1$I r on r.id = (e -> 'key' ->> 'id')::uuid
      left join sync.tombstones t on t.entity = %2$L and t.id = (e -> 'key' ->> 'id')::uuid
     where e ->> 'entity' = %2$L
  $sql$, p_entity, p_entity) into v_part using p_events, p_derived;
  return v_part;
end $$;

-- The number of columns public.<entity> has now (what a generated function was generated for).
create or replace function sync.column_count(p_entity text) returns integer
language sql stable set search_path = '' as $$
  select count(*)::integer from pg_catalog.pg_attribute a
   where a.attrelid = pg_catalog.to_regclass(format('public.%I', p_entity)) and a.attnum > 0 and not a.attisdropped
$$;

-- Generates (or regenerates) sync.apply_<entity>(p_events jsonb): apply_entity_generic's statements
-- with the table, its columns, its derived columns and the entity literal written in, and records
-- what it was generated for in sync.apply_functions. Run it again after altering a replica table.
-- Every identifier goes through %I and every literal through %L. The upsert it writes, for emails:
--   insert into public."emails" as r ("id", "prospect_id", …) select (x.rec).* from (…newest per id…) x
--   where not exists (tombstone at or above its version)
--   on conflict (id) do update set "prospect_id" = excluded."prospect_id", … where r.version < excluded.version
create or replace function sync.create_apply_function(p_entity text) returns void
language plpgsql set search_path = '' as $gen$
declare
  v_cols text;
  v_set text;
  v_derived text[];
  v_count integer := sync.column_count(p_entity);
  v_fn text := 'apply_' || p_entity;
  -- The equal-version comparison without the derived columns (nothing to subtract for most tables).
  v_minus text;
begin
  select r.derived_columns into v_derived from sync.replica_tables r where r.entity = p_entity;
  if not found then
    raise exception 'NOT_A_REPLICA: % is not replicated into this database', p_entity using errcode = '22023';
  end if;
  v_minus := case when cardinality(v_derived) = 0 then '' else format(' - %L::text[]', v_derived) end;
  select c.cols, c.set_list into v_cols, v_set from sync.column_lists(p_entity) c;
  execute format($def$
    create or replace function sync.%1$I(p_events jsonb) returns jsonb
    language plpgsql security definer set search_path = '' as $fn$
    declare
      v_part jsonb;
    begin
      if exists (select 1 from jsonb_array_elements(p_events) e where e ->> 'entity' = %2$L and e ->> 'op' = 'delete') then
        insert into sync.tombstones as t (entity, id, version)
        select distinct on ((e -> 'key' ->> 'id')::uuid) %2$L, (e -> 'key' ->> 'id')::uuid, (e ->> 'version')::bigint
          from jsonb_array_elements(p_events) e
         where e ->> 'entity' = %2$L and e ->> 'op' = 'delete'
         order by (e -> 'key' ->> 'id')::uuid, (e ->> 'version')::bigint desc
        on conflict (entity, id) do update set version = excluded.version, deleted_at = now()
         where t.version < excluded.version;

        delete from public.%3$I r using sync.tombstones t
         where t.entity = %2$L and t.id = r.id and t.version > r.version
           and r.id in (select (e -> 'key' ->> 'id')::uuid from jsonb_array_elements(p_events) e
                         where e ->> 'entity' = %2$L and e ->> 'op' = 'delete');
      end if;

      insert into public.%3$I as r (%4$s)
      select (x.rec).* from (
        select distinct on (p.id) p as rec
          from jsonb_array_elements(p_events) e
         cross join lateral jsonb_populate_record(null::public.%3$I, e -> 'row') p
         where e ->> 'entity' = %2$L and e ->> 'op' = 'upsert'
         order by p.id, p.version desc
      ) x
      where not exists (select 1 from sync.tombstones t
                         where t.entity = %2$L and t.id = (x.rec).id and t.version >= (x.rec).version)
      on conflict (id) do update set %5$s where r.version < excluded.version;

      select coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
               'event_id', e ->> 'id',
               'current_version', greatest(coalesce(r.version, 0), coalesce(t.version, 0)),
               'conflict', nullif(case
                 when e ->> 'op' = 'delete' then coalesce(r.version = (e ->> 'version')::bigint, false)
                 else greatest(coalesce(r.version, 0), coalesce(t.version, 0)) = (e ->> 'version')::bigint
                      and not coalesce(r.version = (e ->> 'version')::bigint
                                       and to_jsonb(r)%6$s = to_jsonb(jsonb_populate_record(null::public.%3$I, e -> 'row'))%6$s, false)
               end, false),
               'updated_at', case when r.version >= coalesce(t.version, 0) and r.version > (e ->> 'version')::bigint
                                  then r.updated_at end))), '[]'::jsonb)
        into v_part
        from jsonb_array_elements(p_events) e
        left join public.%3$I r on r.id = (e -> 'key' ->> 'id')::uuid
        left join sync.tombstones t on t.entity = %2$L and t.id = (e -> 'key' ->> 'id')::uuid
       where e ->> 'entity' = %2$L;
      return v_part;
    end $fn$
  $def$, v_fn, p_entity, p_entity, v_cols, v_set, v_minus);
  -- Nobody calls it but sync_apply_batch (schema sync is closed to the API roles anyway).
  execute format('revoke execute on function sync.%I(jsonb) from public', v_fn);
  insert into sync.apply_functions (entity, columns, derived_columns) values (p_entity, v_count, v_derived)
  on conflict (entity) do update set columns = excluded.columns, derived_columns = excluded.derived_columns;
end $gen$;

-- The entry point (public.sync_apply_batch in the proposal), same contract as migration 0010: checks the batch and each entity, then applies each
-- entity through its generated function while that is up to date (else the generic way), all in
-- the caller's transaction.
create or replace function bench.sync_apply_batch_per_entity(p_events jsonb) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_entity text;
  v_derived text[];
  v_current boolean;
  v_out jsonb := '[]'::jsonb;
  v_part jsonb;
begin
  if jsonb_typeof(p_events) is distinct from 'array' then
    raise exception 'INVALID_BATCH: p_events must be a json array' using errcode = '22023';
  end if;

  for v_entity in select distinct e ->> 'entity' from jsonb_array_elements(p_events) e loop
    select r.derived_columns, f.columns = sync.column_count(r.entity) and f.derived_columns = r.derived_columns
      into v_derived, v_current
      from sync.replica_tables r left join sync.apply_functions f on f.entity = r.entity
     where r.entity = v_entity;
    if not found then
      raise exception 'NOT_A_REPLICA: % is not replicated into this database', v_entity using errcode = '22023';
    end if;
    if coalesce(v_current, false) then
      execute format('select sync.%I($1)', 'apply_' || v_entity) into v_part using p_events;
    else
      v_part := sync.apply_entity_generic(v_entity, v_derived, p_events);
    end if;
    v_out := v_out || v_part;
  end loop;
  return v_out;
end $$;

select sync.create_apply_function(entity) from sync.replica_tables;
`;
