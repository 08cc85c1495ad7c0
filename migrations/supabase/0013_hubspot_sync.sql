-- Issue 13: what the HubSpot fetch side (src/wiring/hubspot.ts, src/services/hubspot-sync.ts) and
-- the operator endpoints read beyond migration 0010's calls: the connected portal, the session in
-- flight, the high-water mark, session and contact listings. Read-only; service role only
-- (sync.restrict_api_access below grants every public.sync_* function to service_role alone).

-- The connected portal. One portal per deployment: of several connected rows (a reconnect of
-- another portal without disconnecting the first), the one updated last is synced.
create or replace function public.sync_hubspot_connection_current() returns jsonb
language sql stable security definer set search_path = '' as $$
  select sync.connection_json(c) from public.hubspot_connections c
   where c.status = 'connected' order by c.updated_at desc, c.id limit 1
$$;

-- The connection a status page shows: the connected one, else the one updated last (error,
-- pending or disconnected), without its tokens.
create or replace function public.sync_hubspot_connection_latest() returns jsonb
language sql stable security definer set search_path = '' as $$
  select sync.connection_json(c) - array['access_token', 'refresh_token'] from public.hubspot_connections c
   order by (c.status = 'connected') desc, c.updated_at desc, c.id limit 1
$$;

-- The pending or running session of a connection (at most one: sync_sessions_one_active_idx).
create or replace function public.sync_hubspot_session_active(p_connection_id uuid) returns jsonb
language sql stable security definer set search_path = '' as $$
  select to_jsonb(s) from public.sync_sessions s
   where s.connection_id = p_connection_id and s.status in ('pending', 'running') limit 1
$$;

-- Incremental sync's high-water mark: contacts modified before it have all been queued. Set only
-- by sessions that completed (a full sync: its start; an incremental one: its window's end). In ms
-- since the epoch (jsonb number, null when none), the same through both transports.
create or replace function public.sync_hubspot_high_water_mark(p_connection_id uuid) returns jsonb
language sql stable security definer set search_path = '' as $$
  select to_jsonb((extract(epoch from max(s.high_water_mark)) * 1000)::bigint) from public.sync_sessions s
   where s.connection_id = p_connection_id and s.status = 'completed'
$$;

-- Sessions, newest first; p_before (created_at of the last one seen) pages back.
create or replace function public.sync_hubspot_sessions_list(p_limit integer, p_before timestamptz) returns jsonb
language sql stable security definer set search_path = '' as $$
  select coalesce(jsonb_agg(to_jsonb(s) order by s.created_at desc, s.id desc), '[]'::jsonb) from (
    select * from public.sync_sessions s
     where p_before is null or s.created_at < p_before
     order by s.created_at desc, s.id desc limit least(greatest(p_limit, 1), 200)) s
$$;

-- Contacts in id order after p->>'after', filtered by email (case-insensitive, exact), sync_status
-- and updated_since (HubSpot's updatedAt at or after it). p: { email, sync_status, updated_since,
-- after, limit }, each optional.
create or replace function public.sync_hubspot_contacts_list(p jsonb) returns jsonb
language sql stable security definer set search_path = '' as $$
  select coalesce(jsonb_agg(to_jsonb(c) order by c.id), '[]'::jsonb) from (
    select c.* from public.contacts c
     where (p ->> 'email' is null or lower(c.email) = lower(p ->> 'email'))
       and (p ->> 'sync_status' is null or c.sync_status = p ->> 'sync_status')
       and (p ->> 'updated_since' is null or c.updated_at >= (p ->> 'updated_since')::timestamptz)
       and (p ->> 'after' is null or c.id > (p ->> 'after')::uuid)
     order by c.id limit least(greatest(coalesce((p ->> 'limit')::integer, 50), 1), 500)) c
$$;

select sync.restrict_api_access();
