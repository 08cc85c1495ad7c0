-- LOCAL DEVELOPMENT AND TESTS ONLY. Never apply to Supabase: there these roles already exist.
--
-- A plain Postgres (or PGlite) set up the way a Supabase project is, so the migrations are tested
-- against what they will meet: the API roles PostgREST switches to (`anon` for the public anon key,
-- `authenticated` for a signed-in user's JWT, `service_role` for the service-role key, which
-- supabase-js uses and which bypasses RLS), and the default privileges that grant every new table,
-- function and sequence in `public` to all three. Those defaults are why a table created without
-- RLS is readable and writable with the anon key. A minimal `auth.uid()` / `auth.jwt()` reads the
-- JWT claims the way Supabase's do (PostgREST puts them in `request.jwt.claims`), so policies
-- written for Supabase can be tested here. Idempotent.

do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
end $$;

grant usage on schema public to anon, authenticated, service_role;
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;

create schema if not exists auth;
grant usage on schema auth to anon, authenticated, service_role;

create or replace function auth.jwt() returns jsonb
language sql stable set search_path = '' as $$
  select coalesce(nullif(current_setting('request.jwt.claims', true), '')::jsonb, '{}'::jsonb)
$$;

create or replace function auth.uid() returns uuid
language sql stable set search_path = '' as $$
  select nullif(auth.jwt() ->> 'sub', '')::uuid
$$;

grant execute on function auth.jwt(), auth.uid() to anon, authenticated, service_role;
