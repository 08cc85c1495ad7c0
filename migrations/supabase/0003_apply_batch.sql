-- sync_apply_batch(p_events jsonb): applies a batch of replica events in one call and one
-- transaction and returns, per event, the version the replica holds for its row afterwards
-- (row or tombstone). The worker derives applied / stale from it.
--
-- p_events: [{ "id": "<ulid>", "entity": "emails", "op": "upsert"|"delete",
--              "key": {"id": "<uuid>"}, "version": 7, "row": {…full row image…} | null }]
--
-- Rule (invariant 2): a row is written iff the incoming version is greater than the version the
-- replica holds, and a tombstone with an equal or greater version blocks the upsert.
-- Generic over tables: columns come from the catalogue, rows from jsonb_populate_record, so a new
-- replicated entity needs only a table and a line in sync.replica_tables.
-- The column list of a public table and its "col = excluded.col" list (all but id), in column
-- order: what the generic upserts below (and sync_repair_batch) need to name every column.
create or replace function sync.column_lists(p_table text, out cols text, out set_list text)
language sql stable set search_path = '' as $$
  select string_agg(quote_ident(a.attname), ', ' order by a.attnum),
         string_agg(format('%1$I = excluded.%1$I', a.attname), ', ' order by a.attnum) filter (where a.attname <> 'id')
    from pg_attribute a
   where a.attrelid = format('public.%I', p_table)::regclass and a.attnum > 0 and not a.attisdropped
$$;

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
      -- Deletes: record the tombstone, then remove the row if it is older than the tombstone.
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

    -- Upserts: newest image per id, unless a tombstone at least as new exists.
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

    execute format($sql$
      select coalesce(jsonb_agg(jsonb_build_object(
               'event_id', e ->> 'id',
               'current_version', greatest(coalesce(r.version, 0), coalesce(t.version, 0)))), '[]'::jsonb)
        from jsonb_array_elements($1) e
        left join public.%1$I r on r.id = (e -> 'key' ->> 'id')::uuid
        left join sync.tombstones t on t.entity = %2$L and t.id = (e -> 'key' ->> 'id')::uuid
       where e ->> 'entity' = %2$L
    $sql$, v_entity, v_entity) into v_part using p_events;
    v_out := v_out || v_part;
  end loop;
  return v_out;
end $$;

-- Cheap reachability probe for /health.
create or replace function public.sync_ping() returns jsonb
language sql stable set search_path = '' as $$ select jsonb_build_object('now', now()) $$;

-- Only the worker (service role / direct connection) may call these; never the anon key.
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'anon') then
    revoke execute on function public.sync_apply_batch(jsonb) from public, anon, authenticated;
    revoke execute on function public.sync_ping() from public, anon, authenticated;
    grant execute on function public.sync_apply_batch(jsonb) to service_role;
    grant execute on function public.sync_ping() to service_role;
  end if;
end $$;
