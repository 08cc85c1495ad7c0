-- Issue 13: sync_logs and error_logs grow with every page read and every error (migration 0016
-- writes them); the hourly retention (src/services/retention.ts) deletes lines older than
-- HUBSPOT_LOG_RETENTION_DAYS. Sessions, their last progress event and the audit trail stay: they
-- are what says a sync happened and how it ended. Service role only, like every public.sync_*.
create or replace function public.sync_hubspot_prune_logs(p_before timestamptz) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_logs bigint;
  v_errors bigint;
begin
  delete from public.sync_logs where "timestamp" < p_before;
  get diagnostics v_logs = row_count;
  delete from public.error_logs where "timestamp" < p_before;
  get diagnostics v_errors = row_count;
  return jsonb_build_object('sync_logs', v_logs, 'error_logs', v_errors);
end
$$;

select sync.restrict_api_access();
