-- Issue 13: a connection change and its line in the seed's audit trail (public.hubspot_audit_logs)
-- in one call, so in one transaction. Before, connect saved the connection and then wrote the line
-- in a second call (and disconnect likewise): a worker dying between the two left a connected (or
-- disconnected) portal with no record of who did it. Now either both are written or neither.
-- core/hubspot/connections.ts calls these; sync_hubspot_connection_save / _move / sync_hubspot_audit_write
-- (migrations 0010, 0015) stay for the token refresh and rotation, which are not operator actions.
--
-- p_audit: { user_id, ip_address, user_agent }, who and from where (an address that is not one is
-- left out, as sync_hubspot_audit_write does). The function fills in the rest from the row itself:
-- entity, operation (create when there was no row), old_data (the row as the change found it,
-- read under its lock) and new_data, both without any token, sealed or not.

-- What the audit trail shows of a connection: never a token (the caller never sees them either).
create or replace function sync.connection_public(c public.hubspot_connections) returns jsonb
language sql immutable set search_path = '' as $$
  select sync.connection_json(c) - array['access_token', 'refresh_token']
$$;

-- The audit line of one change of connection p_after (p_before null when it was created).
create or replace function sync.audit_connection_change(p_before jsonb, p_after jsonb, p_audit jsonb) returns void
language sql volatile set search_path = '' as $$
  select public.sync_hubspot_audit_write(jsonb_build_object(
    'entity_type', 'hubspot_connection',
    'entity_id', p_after ->> 'id',
    'operation', case when p_before is null then 'create' else 'update' end,
    'old_data', p_before,
    'new_data', p_after,
    'user_id', p_audit ->> 'user_id',
    'ip_address', p_audit ->> 'ip_address',
    'user_agent', p_audit ->> 'user_agent'))
$$;

-- Connect: sync_hubspot_connection_save's p, and its audit line. Returns what the save returns.
create or replace function public.sync_hubspot_connection_save_audited(p jsonb, p_audit jsonb) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_before jsonb;
  v_saved jsonb;
begin
  -- Locked: a refresh saving the same portal meanwhile waits, so "before" is what was replaced.
  select sync.connection_public(c) into v_before
    from public.hubspot_connections c where c.portal_id = (p ->> 'portal_id')::bigint for update;
  v_saved := public.sync_hubspot_connection_save(p);
  perform sync.audit_connection_change(v_before, v_saved - array['access_token', 'refresh_token'], p_audit);
  return v_saved;
end $$;

-- Disconnect (and any operator's move): sync_hubspot_connection_move's answer, and the audit line
-- of a move that was made. A refused move or an unknown connection writes no line.
create or replace function public.sync_hubspot_connection_move_audited(p_id uuid, p_status text, p_error text,
                                                                      p_audit jsonb) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_before jsonb;
  v_moved jsonb;
begin
  select sync.connection_public(c) into v_before from public.hubspot_connections c where c.id = p_id for update;
  v_moved := public.sync_hubspot_connection_move(p_id, p_status, p_error);
  if v_moved is not null and not (v_moved ->> 'refused')::boolean then
    perform sync.audit_connection_change(v_before, v_moved -> 'connection', p_audit);
  end if;
  return v_moved;
end $$;

-- Every migration that creates a function ends so (0007): EXECUTE for service_role only.
select sync.restrict_api_access();
