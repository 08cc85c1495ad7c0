/**
 * An alternative Supabase-side SQL that was measured and REJECTED (not proposed, not in
 * migrations/): bench/profile-postgres.ts creates it in its scratch database only, under a
 * `bench` schema, and times it next to public.sync_apply_batch. It was no faster (batch 100,
 * warm connection: 6.6 against 6.0 ms; new backend: 19.6 against 19.1 ms, medians of 40 calls),
 * so the function's per-statement and per-row work is not what bounds the to-supabase consumer
 * (see bench/RESULTS.md). Kept so that the measurement can be repeated.
 *
 * bench.sync_apply_batch_v2(p_events jsonb): the same contract and the same result as
 * public.sync_apply_batch in migrations/supabase/0003_apply_batch.sql, with the work per entity
 * cut from up to five passes over the batch (distinct entities, "any delete?", upsert, read-back)
 * and two planned statements to one pass for the entities and their deletes and ONE statement
 * for the upsert and the read-back: the upsert is a data-modifying CTE whose RETURNING gives the
 * version it wrote, and rows it did not write keep the version the statement's snapshot shows
 * (row or tombstone), which is exactly what the separate read-back returned:
 *   current_version = greatest(coalesce(written.version, row.version, 0), coalesce(tombstone.version, 0))
 * (a written row's version is newer than any tombstone of it, by the not-exists guard).
 * Deletes are unchanged (two statements, only when the batch holds a delete for the entity).
 */
export const PROPOSED_APPLY_BATCH_SQL = `
create schema if not exists bench;
create or replace function bench.sync_apply_batch_v2(p_events jsonb) returns jsonb
language plpgsql security definer set search_path = '' as $fn$
declare
  v_entity text;
  v_has_delete boolean;
  v_cols text;
  v_set text;
  v_out jsonb := '[]'::jsonb;
  v_part jsonb;
begin
  if jsonb_typeof(p_events) is distinct from 'array' then
    raise exception 'INVALID_BATCH: p_events must be a json array' using errcode = '22023';
  end if;

  for v_entity, v_has_delete in
    select e ->> 'entity', bool_or(e ->> 'op' = 'delete') from jsonb_array_elements(p_events) e group by 1
  loop
    if not exists (select 1 from sync.replica_tables r where r.entity = v_entity) then
      raise exception 'NOT_A_REPLICA: % is not replicated into this database', v_entity using errcode = '22023';
    end if;

    select c.cols, c.set_list into v_cols, v_set from sync.column_lists(v_entity) c;

    if v_has_delete then
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
      with ev as materialized (
        select e ->> 'id' as event_id, (e -> 'key' ->> 'id')::uuid as id, e ->> 'op' as op, e -> 'row' as img
          from jsonb_array_elements($1) e
         where e ->> 'entity' = %3$L
      ), written as (
        insert into public.%1$I as r (%2$s)
        select (x.rec).* from (
          select distinct on (p.id) p as rec
            from ev cross join lateral jsonb_populate_record(null::public.%1$I, ev.img) p
           where ev.op = 'upsert'
           order by p.id, p.version desc
        ) x
        where not exists (select 1 from sync.tombstones t
                           where t.entity = %3$L and t.id = (x.rec).id and t.version >= (x.rec).version)
        on conflict (id) do update set %4$s where r.version < excluded.version
        returning r.id, r.version
      )
      select coalesce(jsonb_agg(jsonb_build_object(
               'event_id', ev.event_id,
               'current_version', greatest(coalesce(w.version, r.version, 0), coalesce(t.version, 0)))), '[]'::jsonb)
        from ev
        left join written w on w.id = ev.id
        left join public.%1$I r on r.id = ev.id
        left join sync.tombstones t on t.entity = %3$L and t.id = ev.id
    $sql$, v_entity, v_cols, v_entity, v_set) into v_part using p_events;
    v_out := v_out || v_part;
  end loop;
  return v_out;
end $fn$;
`;
