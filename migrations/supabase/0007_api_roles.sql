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

-- Runs `p_sql` (a grant or revoke with `%I` where the role goes) only where the role exists.
create or replace function sync.for_role(p_role text, p_sql text) returns void
language plpgsql set search_path = '' as $$
begin
  if sync.role_exists(p_role) then
    execute format(p_sql, p_role);
  end if;
end $$;

-- Re-applies the access policy above to every object of ours. Idempotent; every migration that
-- creates a table or function ends by calling it.
create or replace function sync.restrict_api_access() returns void
language plpgsql set search_path = '' as $$
declare
  r record;
  v_tables jsonb;
  v_writes constant text := 'insert, update, delete, truncate, references, trigger';
begin
  -- Listed first, then altered: a loop still reading sync.replica_tables could not alter it.
  select coalesce(jsonb_agg(jsonb_build_object('t', l.t::text, 'kind', l.kind)), '[]') into v_tables from (
    -- Bookkeeping in schema sync: no API role touches it directly.
    select c.oid::regclass as t, 'bookkeeping' as kind
      from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'sync' and c.relkind in ('r', 'p')
    -- Authoritative CRM tables: the app's signed-in users may work with them under its policies.
    union all select a, 'authoritative' from sync.authoritative_tables() a
    -- Replica tables: only the sync writes them.
    union all select to_regclass(format('public.%I', x.entity)), 'replica' from sync.replica_tables x
     where to_regclass(format('public.%I', x.entity)) is not null
  ) l;
  for r in select e ->> 't' as t, e ->> 'kind' as kind from jsonb_array_elements(v_tables) e loop
    execute format('alter table %s enable row level security', r.t);
    execute format('revoke all on table %s from public', r.t);
    if r.kind <> 'bookkeeping' then
      perform sync.for_role('anon', format('revoke all on table %s from %%I', r.t));
    end if;
    if r.kind = 'authoritative' then
      perform sync.for_role('authenticated', format('revoke truncate, references, trigger on table %s from %%I', r.t));
    elsif r.kind = 'replica' then
      perform sync.for_role('authenticated', format('revoke %s on table %s from %%I', v_writes, r.t));
      perform sync.for_role('service_role', format('revoke %s on table %s from %%I', v_writes, r.t));
    end if;
  end loop;

  -- Functions in sync (triggers, helpers) are nobody's to call; the RPC functions (public.sync_*)
  -- are the worker's (service role or a direct connection) and nobody else's.
  for r in select p.oid::regprocedure as f, n.nspname = 'public' as rpc
             from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
            where n.nspname = 'sync' or (n.nspname = 'public' and p.proname like 'sync\_%') loop
    execute format('revoke execute on function %s from public', r.f);
    if r.rpc then
      perform sync.for_role('anon', format('revoke execute on function %s from %%I', r.f));
      perform sync.for_role('authenticated', format('revoke execute on function %s from %%I', r.f));
      perform sync.for_role('service_role', format('grant execute on function %s to %%I', r.f));
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
