-- The HubSpot connections without their tokens, most recently changed first: what the connection
-- status endpoint and the console show, and how connect finds a portal's existing row
-- (core/hubspot/connections.ts listConnections). One row per portal, so a handful at most.
create or replace function public.sync_hubspot_connections_list() returns jsonb
language sql stable security definer set search_path = '' as $$
  select coalesce(jsonb_agg(sync.connection_json(c) - array['access_token', 'refresh_token']
                            order by c.updated_at desc, c.id), '[]'::jsonb)
    from public.hubspot_connections c
$$;
-- Every migration that creates a function ends so (0007): EXECUTE for service_role only.
select sync.restrict_api_access();
