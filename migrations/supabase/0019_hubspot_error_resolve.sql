-- Issue 13 (seed 002's error_logs.resolved): an operator marks a sync session's errors resolved
-- once they are dealt with (src/services/hubspot-errors.ts, audited in D1 as hubspot-errors-resolve).
-- Null when the session does not exist. Service role only, like every public.sync_*.
create or replace function public.sync_hubspot_errors_resolve(p_session_id uuid) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_resolved bigint;
begin
  if not exists (select 1 from public.sync_sessions s where s.id = p_session_id) then
    return null;
  end if;
  update public.error_logs set resolved = true where session_id = p_session_id and not resolved;
  get diagnostics v_resolved = row_count;
  return jsonb_build_object('resolved', v_resolved);
end
$$;

select sync.restrict_api_access();
