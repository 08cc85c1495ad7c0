-- Functions behind operator replay (src/stores/row-state.ts): the superseded check reads the
-- versions a replica holds, and "refresh from source" reads the current rows of the
-- authoritative store. Ids come as a jsonb array of strings (the same with both transports).

-- Versions the Supabase replica holds (row or tombstone, 0 when neither) for some ids.
-- Returns [{ "id": uuid, "version": n }].
create or replace function public.sync_row_versions(p_entity text, p_ids jsonb) returns jsonb
language plpgsql stable security definer set search_path = '' as $$
declare
  v_rows jsonb;
begin
  if not exists (select 1 from sync.replica_tables where entity = p_entity) then
    raise exception 'NOT_REPLICA: % is not a replica table', p_entity using errcode = '22023';
  end if;
  execute format($sql$
    select coalesce(jsonb_agg(jsonb_build_object('id', i.id,
             'version', greatest(coalesce(r.version, 0), coalesce(t.version, 0)))), '[]'::jsonb)
      from (select distinct value::uuid as id from jsonb_array_elements_text($1)) i
      left join public.%I r on r.id = i.id
      left join sync.tombstones t on t.entity = %L and t.id = i.id
  $sql$, p_entity, p_entity) into v_rows using p_ids;
  return v_rows;
end $$;

-- The current state of authoritative rows: the row image (with its version), or, for a deleted
-- row, the version of its delete (the source tombstone). Ids that never existed are left out.
-- Returns [{ "id": uuid, "version": n, "row": {…} | null }].
create or replace function public.sync_read_rows(p_entity text, p_ids jsonb) returns jsonb
language plpgsql stable security definer set search_path = '' as $$
declare
  v_rows jsonb;
begin
  if not exists (select 1 from pg_trigger where tgname = 'sync_record_change' and tgrelid = to_regclass(format('public.%I', p_entity))) then
    raise exception 'NOT_AUTHORITATIVE: % is not an authoritative synced table', p_entity using errcode = '22023';
  end if;
  execute format($sql$
    select coalesce(jsonb_agg(jsonb_build_object('id', i.id, 'version', coalesce(r.version, s.version),
             'row', case when r.id is null then null else to_jsonb(r) end)), '[]'::jsonb)
      from (select distinct value::uuid as id from jsonb_array_elements_text($1)) i
      left join public.%I r on r.id = i.id
      left join sync.source_tombstones s on s.entity = %L and s.id = i.id
     where r.id is not null or s.id is not null
  $sql$, p_entity, p_entity) into v_rows using p_ids;
  return v_rows;
end $$;

-- On Supabase: only the service role (the worker) may call these.
do $$
declare
  f text;
begin
  if exists (select 1 from pg_roles where rolname = 'anon') then
    foreach f in array array['sync_row_versions(text, jsonb)', 'sync_read_rows(text, jsonb)'] loop
      execute format('revoke execute on function public.%s from public, anon, authenticated', f);
      execute format('grant execute on function public.%s to service_role', f);
    end loop;
  end if;
end $$;
