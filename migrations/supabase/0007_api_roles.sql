-- Safe on a real Supabase project.
--
-- Supabase exposes `public` over its REST and GraphQL APIs and, by default privileges, grants
-- every new table, function and sequence there to `anon` (anyone holding the public anon key),
-- `authenticated` (any signed-in user) and `service_role` (the backend; supabase-js with the
-- service-role key; bypasses RLS). Until this migration the CRM tables had no RLS: the anon key
-- could read every prospect and email body and rewrite `public.emails` (a version of 2^53 would
-- have made every later email change from D1 look stale). And the sync triggers ran with the
-- caller's rights in schema `sync`, which only `postgres` may use, so every write through the API
-- failed with "permission denied for schema sync".
--
-- The policy this migration applies (and `sync.restrict_api_access()` re-applies at the end of
-- every later migration, so a new table or function cannot be forgotten):
--   * every table we create has RLS enabled. No policy is created for the API roles: with RLS on
--     and no policy, `authenticated` sees and writes no row until the CRM app adds its own
--     policies (README, "Row level security"). `service_role` bypasses RLS, as on Supabase.
--   * `anon` has no privilege on any of our tables or functions.
--   * authoritative tables (prospects, campaigns, mailboxes, inbox_items): `authenticated` keeps
--     select/insert/update/delete, gated by the app's policies, but not TRUNCATE (which RLS does
--     not filter), REFERENCES or TRIGGER.
--   * replica tables (emails, written only by the sync from D1): `authenticated` and `service_role`
--     may only read. A write there would be overwritten or, worse, mask later changes.
--   * schema `sync` stays closed to the API roles. The trigger functions run as their owner
--     (SECURITY DEFINER, empty search_path, every name qualified), so writes through the API work
--     without opening `sync`. Postgres does not check EXECUTE when it fires a trigger, so EXECUTE
--     on them is revoked from PUBLIC as well: nobody can call them directly.
--   * our RPC functions (public.sync_*) are SECURITY DEFINER: EXECUTE is revoked from PUBLIC
--     unconditionally (on plain Postgres PUBLIC would otherwise keep it), from anon and
--     authenticated where they exist, and granted to service_role only.

alter function sync.stamp_version() security definer;
alter function sync.record_change() security definer;
alter function sync.enforce_transition() security definer;

-- True when the role exists (Supabase); plain Postgres has none of the API roles.
create or replace function sync.role_exists(p_role text) returns boolean
language sql stable set search_path = '' as $$
  select exists (select 1 from pg_catalog.pg_roles where rolname = p_role)
$$;

-- The tables this database holds as authoritative: the ones sync.make_authoritative equipped.
create or replace function sync.authoritative_tables() returns setof regclass
language sql stable set search_path = '' as $$
  select distinct t.tgrelid::regclass from pg_catalog.pg_trigger t
  where t.tgname = 'sync_record_change' and not t.tgisinternal
$$;

-- Re-applies the access policy above to every object of ours. Idempotent; every migration that
-- creates a table or function ends by calling it.
create or replace function sync.restrict_api_access() returns void
language plpgsql set search_path = '' as $$
declare
  v_anon boolean := sync.role_exists('anon');
  v_authenticated boolean := sync.role_exists('authenticated');
  v_service boolean := sync.role_exists('service_role');
  v_table regclass;
  v_function regprocedure;
begin
  -- Bookkeeping in schema sync: no API role touches it directly.
  for v_table in select c.oid::regclass from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                 where n.nspname = 'sync' and c.relkind in ('r', 'p') loop
    execute format('alter table %s enable row level security', v_table);
    execute format('revoke all on table %s from public', v_table);
  end loop;
  for v_function in select p.oid::regprocedure from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
                    where n.nspname = 'sync' loop
    execute format('revoke execute on function %s from public', v_function);
  end loop;

  -- Authoritative CRM tables: the app's signed-in users may work with them under its policies.
  for v_table in select * from sync.authoritative_tables() loop
    execute format('alter table %s enable row level security', v_table);
    execute format('revoke all on table %s from public', v_table);
    if v_anon then
      execute format('revoke all on table %s from anon', v_table);
    end if;
    if v_authenticated then
      execute format('revoke truncate, references, trigger on table %s from authenticated', v_table);
    end if;
  end loop;

  -- Replica tables: only the sync writes them.
  for v_table in select to_regclass(format('public.%I', r.entity)) from sync.replica_tables r
                 where to_regclass(format('public.%I', r.entity)) is not null loop
    execute format('alter table %s enable row level security', v_table);
    execute format('revoke all on table %s from public', v_table);
    if v_anon then
      execute format('revoke all on table %s from anon', v_table);
    end if;
    if v_authenticated then
      execute format('revoke insert, update, delete, truncate, references, trigger on table %s from authenticated', v_table);
    end if;
    if v_service then
      execute format('revoke insert, update, delete, truncate, references, trigger on table %s from service_role', v_table);
    end if;
  end loop;

  -- RPC functions: the worker's (service role or a direct connection) and nobody else's.
  for v_function in select p.oid::regprocedure from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
                    where n.nspname = 'public' and p.proname like 'sync\_%' loop
    execute format('revoke execute on function %s from public', v_function);
    if v_anon then
      execute format('revoke execute on function %s from anon', v_function);
    end if;
    if v_authenticated then
      execute format('revoke execute on function %s from authenticated', v_function);
    end if;
    if v_service then
      execute format('grant execute on function %s to service_role', v_function);
    end if;
  end loop;
end $$;

-- A table made authoritative later (a new entity) gets the same protection at once.
create or replace function sync.make_authoritative(p_table text, p_state_field text default null) returns void
language plpgsql set search_path = '' as $$
begin
  execute format('drop trigger if exists sync_stamp_version on public.%I', p_table);
  execute format('create trigger sync_stamp_version before insert or update on public.%I
                  for each row execute function sync.stamp_version()', p_table);
  execute format('drop trigger if exists sync_record_change on public.%I', p_table);
  execute format('create trigger sync_record_change after insert or update or delete on public.%I
                  for each row execute function sync.record_change()', p_table);
  if p_state_field is not null then
    execute format('drop trigger if exists sync_enforce_transition on public.%I', p_table);
    execute format('create trigger sync_enforce_transition before update of %I on public.%I
                    for each row execute function sync.enforce_transition(%L)', p_state_field, p_table, p_state_field);
  end if;
  perform sync.restrict_api_access();
end $$;

select sync.restrict_api_access();
