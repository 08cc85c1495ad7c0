-- Connecting a HubSpot portal (README "Connecting a HubSpot portal").

-- The HubSpot connections without their tokens, most recently changed first: what the connection
-- status endpoint and the console show, and how connect finds a portal's existing row
-- (core/hubspot/connections.ts listConnections). One row per portal, so a handful at most.
create or replace function public.sync_hubspot_connections_list() returns jsonb
language sql stable security definer set search_path = '' as $$
  select coalesce(jsonb_agg(sync.connection_json(c) - array['access_token', 'refresh_token']
                            order by c.updated_at desc, c.id), '[]'::jsonb)
    from public.hubspot_connections c
$$;
-- One line of the seed's audit trail (public.hubspot_audit_logs): connect and disconnect write it,
-- with who, from where and the connection before and after (never a token: the worker passes the
-- public view). p: { entity_type, entity_id, operation, old_data, new_data, user_id, ip_address,
-- user_agent }; the table's check keeps old/new consistent with the operation.
create or replace function public.sync_hubspot_audit_write(p jsonb) returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_ip inet;
begin
  -- An address that is not one (a proxy's odd header) is left out rather than losing the line.
  begin
    v_ip := (p ->> 'ip_address')::inet;
  exception when others then
    v_ip := null;
  end;
  insert into public.hubspot_audit_logs (entity_type, entity_id, operation, old_data, new_data, user_id, ip_address,
                                         user_agent)
  -- A JSON null is SQL null here: the table's check reads "no old data" as null.
  values (p ->> 'entity_type', p ->> 'entity_id', p ->> 'operation', nullif(p -> 'old_data', 'null'::jsonb),
          nullif(p -> 'new_data', 'null'::jsonb), p ->> 'user_id', v_ip, p ->> 'user_agent');
end $$;

-- Every migration that creates a function ends so (0007): EXECUTE for service_role only.
select sync.restrict_api_access();
