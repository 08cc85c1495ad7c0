-- Issue 13: a full sync runs as a chain of bounded steps (src/services/hubspot-sync.ts), continued
-- by control-queue ticks and, when a tick is lost, by the cron. Ticks can be duplicated, so a step
-- first takes the session's lease: one step at a time per session, and a runner that died loses it
-- when it expires.
alter table public.sync_sessions
  add column if not exists lease_holder text,
  add column if not exists lease_until timestamptz(3);

-- Takes (or extends) the lease of a pending or running session for p_seconds; false when another
-- holder's lease has not expired or the session is over.
create or replace function public.sync_hubspot_session_lease(p_id uuid, p_holder text, p_seconds integer)
returns boolean
language plpgsql volatile security definer set search_path = '' as $$
begin
  update public.sync_sessions s set lease_holder = p_holder, lease_until = now() + make_interval(secs => p_seconds)
   where s.id = p_id and s.status in ('pending', 'running')
     and (s.lease_until is null or s.lease_until < now() or s.lease_holder = p_holder);
  return found;
end $$;

-- Gives the lease back (only the holder can), so the next tick need not wait for it to expire.
create or replace function public.sync_hubspot_session_release(p_id uuid, p_holder text) returns boolean
language plpgsql volatile security definer set search_path = '' as $$
begin
  update public.sync_sessions s set lease_holder = null, lease_until = null
   where s.id = p_id and s.lease_holder = p_holder;
  return found;
end $$;

select sync.restrict_api_access();
