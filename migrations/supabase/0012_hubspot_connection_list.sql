-- The HubSpot connections without their tokens, most recently changed first: what the connection
-- status endpoint and the console show, and how connect finds a portal's existing row
-- (core/hubspot/connections.ts listConnections). One row per portal, so a handful at most.
create or replace function public.sync_hubspot_connections_list() returns jsonb
language sql stable security definer set search_path = '' as $$
  select coalesce(jsonb_agg(sync.connection_json(c) - array['access_token', 'refresh_token']
                            order by c.updated_at desc, c.id), '[]'::jsonb)
    from public.hubspot_connections c
$$;
-- The newest sync sessions (the console's HubSpot page lists them with their progress).
create or replace function public.sync_hubspot_sessions_recent(p_limit integer) returns jsonb
language sql stable security definer set search_path = '' as $$
  select coalesce(jsonb_agg(to_jsonb(s) order by s.created_at desc, s.id), '[]'::jsonb)
    from (select * from public.sync_sessions order by created_at desc, id limit least(greatest(p_limit, 1), 200)) s
$$;

-- Every migration that creates a function ends so (0007): EXECUTE for service_role only.
select sync.restrict_api_access();
