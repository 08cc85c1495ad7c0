-- LOCAL DEVELOPMENT ONLY. Never apply to Supabase: there pg_net and supabase_functions exist.
--
-- Plain Postgres and PGlite have no pg_net, so Supabase Database Webhooks cannot fire. This shim
-- provides the same SQL surface:
--   supabase_functions.http_request()  the trigger function Database Webhooks call, same
--                                      arguments (url, method, headers, params, timeout_ms) and
--                                      the same payload {type, table, schema, record, old_record};
--   net.http_post(...)                 pg_net's signature; it only queues the request, in the
--                                      caller's transaction (so a rolled-back change sends nothing,
--                                      as with pg_net);
--   net.http_request_queue             the queue; src/local/pg-net-relay.ts plays pg_net's
--                                      background worker and sends the requests after commit.
-- Idempotent. The dev harness applies it only when the supabase_functions schema is absent.

create schema if not exists net;

create table if not exists net.http_request_queue (
  id bigserial primary key,
  method text not null,
  url text not null,
  headers jsonb not null default '{}'::jsonb,
  body jsonb,
  timeout_milliseconds integer not null,
  created_at timestamptz not null default now()
);
-- The harness starts its relay only for a queue carrying this mark: real pg_net has a table of
-- the same name, which its own worker drains.
comment on table net.http_request_queue is 'supabase-d1-sync local pg_net shim';

-- Same signature as pg_net's net.http_post. Query parameters are appended to the URL by the relay.
create or replace function net.http_post(
  url text,
  body jsonb default '{}'::jsonb,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language plpgsql as $$
declare
  v_id bigint;
  v_url text := url;
begin
  if params is not null and params <> '{}'::jsonb then
    v_url := v_url || case when position('?' in v_url) > 0 then '&' else '?' end ||
      (select string_agg(k || '=' || v, '&') from jsonb_each_text(params) as p(k, v));
  end if;
  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
    values ('POST', v_url, coalesce(headers, '{}'::jsonb), body, timeout_milliseconds)
    returning id into v_id;
  return v_id;
end $$;

create schema if not exists supabase_functions;

-- Supabase's audit trail of fired hooks (kept for fidelity: same columns).
create table if not exists supabase_functions.hooks (
  id bigserial primary key,
  hook_table_id integer not null,
  hook_name text not null,
  created_at timestamptz not null default now(),
  request_id bigint
);

-- Mirrors Supabase's supabase_functions.http_request(): positional trigger arguments, 'null'
-- meaning absent, payload built with jsonb_build_object from OLD and NEW (old_record is null on
-- INSERT, record is null on DELETE). GET is not needed by this project and is refused.
create or replace function supabase_functions.http_request() returns trigger
language plpgsql security definer set search_path = supabase_functions as $$
declare
  request_id bigint;
  payload jsonb;
  url text := tg_argv[0]::text;
  method text := tg_argv[1]::text;
  headers jsonb default '{}'::jsonb;
  params jsonb default '{}'::jsonb;
  timeout_ms integer default 1000;
begin
  if url is null or url = 'null' then
    raise exception 'url argument is missing';
  end if;
  if method is null or method = 'null' then
    raise exception 'method argument is missing';
  end if;
  if tg_argv[2] is null or tg_argv[2] = 'null' then
    headers := '{"Content-Type": "application/json"}'::jsonb;
  else
    headers := tg_argv[2]::jsonb;
  end if;
  if tg_argv[3] is null or tg_argv[3] = 'null' then
    params := '{}'::jsonb;
  else
    params := tg_argv[3]::jsonb;
  end if;
  if tg_argv[4] is null or tg_argv[4] = 'null' then
    timeout_ms := 1000;
  else
    timeout_ms := tg_argv[4]::integer;
  end if;

  if method <> 'POST' then
    raise exception 'method argument % is not supported by the local pg_net shim (POST only)', method;
  end if;
  payload := jsonb_build_object(
    'old_record', old,
    'record', new,
    'type', tg_op,
    'table', tg_table_name,
    'schema', tg_table_schema
  );
  select net.http_post(url, payload, params, headers, timeout_ms) into request_id;

  insert into supabase_functions.hooks (hook_table_id, hook_name, request_id)
    values (tg_relid, tg_name, request_id);
  return new;
end $$;
