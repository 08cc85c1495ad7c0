-- Issue 13, seed 002: what the operator SEES of a HubSpot sync. The seed's events (sync:start,
-- sync:progress, sync:complete, sync:error, connection:status) recorded as a stream the console
-- follows (GET /v1/hubspot/events), and the seed's sync_logs / error_logs written by the sync.
--
-- Events are written by triggers on sync_sessions and hubspot_connections, not by the worker: the
-- record commits with the state change it describes (or not at all), and no code path that moves
-- a session or a connection can forget it.

-- ---------------------------------------------------------------------------------------------
-- The event stream. `seq` is the stream's cursor (SSE's id, Last-Event-ID).

create table if not exists public.hubspot_sync_events (
  seq bigint generated always as identity primary key,
  event text not null constraint hubspot_sync_events_event
    check (event in ('sync:start', 'sync:progress', 'sync:complete', 'sync:error', 'connection:status')),
  session_id uuid references public.sync_sessions (id) on delete cascade,
  connection_id uuid,
  data jsonb not null default '{}' constraint hubspot_sync_events_data_object check (jsonb_typeof(data) = 'object'),
  at timestamptz(3) not null default now(),
  -- A sync event names its session; a connection event its connection.
  constraint hubspot_sync_events_subject check (
    (event = 'connection:status' and connection_id is not null)
    or (event <> 'connection:status' and session_id is not null))
);
create index if not exists hubspot_sync_events_session_idx on public.hubspot_sync_events (session_id, event);

insert into sync.private_tables (name) values ('hubspot_sync_events') on conflict do nothing;

-- The classic trap (DESIGN invariant 4): identity values are taken in one order and committed in
-- another, so a reader at seq 10 could see 12 committed while 11 is still open, move its cursor to
-- 12 and never see 11. Every transaction that records an event first takes this transaction-level
-- lock, then its seq: event writers commit one after the other, in seq order, so whatever a reader
-- sees is a prefix of the stream. Writers are a session's progress (about one a second) and
-- connection changes: the lock costs nothing measurable at that rate.
create or replace function sync.record_hubspot_event(p_event text, p_session uuid, p_connection uuid, p_data jsonb)
returns void
language plpgsql security definer set search_path = '' as $$
begin
  perform pg_catalog.pg_advisory_xact_lock(hashtext('sync.hubspot_sync_events'));
  insert into public.hubspot_sync_events (event, session_id, connection_id, data)
  values (p_event, p_session, p_connection, p_data);
end $$;

create or replace function sync.session_counts(s public.sync_sessions) returns jsonb
language sql immutable set search_path = '' as $$
  select jsonb_build_object('session', s.session_id, 'type', s.type, 'records_count', s.records_count,
                            'archived_count', s.archived_count, 'error_count', s.error_count)
$$;

-- AFTER UPDATE on sync_sessions: pending → running is sync:start; totals or cursor moving while
-- running is sync:progress; → completed is sync:complete; → failed is sync:error with the reason.
--
-- Growth: a full sync of 20,000 contacts records ~200 progress events. When a session ends its
-- progress events are deleted but the last (its sync_logs keep a line per page, which is the
-- lasting record): a finished session keeps at most 3 events, so the stream grows with sessions,
-- like sync_sessions itself, not with pages. A reader whose cursor pointed into them just goes on
-- after them (seq > cursor).
create or replace function sync.record_session_event() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  v_data jsonb := sync.session_counts(new);
begin
  if old.status = 'pending' and new.status = 'running' then
    perform sync.record_hubspot_event('sync:start', new.id, new.connection_id,
      v_data || jsonb_build_object('start_time', new.start_time));
  elsif old.status = 'running' and new.status = 'running' then
    if (old.records_count, old.archived_count, old.error_count, old.after_cursor)
       is distinct from (new.records_count, new.archived_count, new.error_count, new.after_cursor) then
      perform sync.record_hubspot_event('sync:progress', new.id, new.connection_id,
        v_data || jsonb_build_object('after', new.after_cursor));
    end if;
  elsif new.status in ('completed', 'failed') and old.status is distinct from new.status then
    perform sync.record_hubspot_event(case new.status when 'completed' then 'sync:complete' else 'sync:error' end,
      new.id, new.connection_id,
      v_data || jsonb_build_object('start_time', new.start_time, 'end_time', new.end_time,
                                   'duration_ms', (extract(epoch from new.end_time - new.start_time) * 1000)::bigint)
             || case when new.status = 'failed' then jsonb_build_object('error', left(new.error, 1000)) else '{}' end);
    delete from public.hubspot_sync_events e
     where e.session_id = new.id and e.event = 'sync:progress'
       and e.seq < (select max(l.seq) from public.hubspot_sync_events l
                     where l.session_id = new.id and l.event = 'sync:progress');
  end if;
  return null;
end $$;
drop trigger if exists sync_record_event on public.sync_sessions;
create trigger sync_record_event after update on public.sync_sessions
  for each row execute function sync.record_session_event();

-- AFTER INSERT or a status change on hubspot_connections: connection:status with from / to (null
-- from: a new portal), the portal and, in error, HubSpot's reason. Never a token, sealed or not.
create or replace function sync.record_connection_event() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  v_from text := case when tg_op = 'UPDATE' then old.status end;
begin
  if v_from is distinct from new.status then
    perform sync.record_hubspot_event('connection:status', null, new.id, jsonb_build_object(
      'portal_id', new.portal_id, 'from', v_from, 'to', new.status,
      'error', case when new.status = 'error' then left(new.last_error, 1000) end));
  end if;
  return null;
end $$;
drop trigger if exists sync_record_event on public.hubspot_connections;
create trigger sync_record_event after insert or update of status on public.hubspot_connections
  for each row execute function sync.record_connection_event();

-- ---------------------------------------------------------------------------------------------
-- sync_logs and error_logs: a cursor of their own, so a session's lines page in the order they
-- were written (timestamps collide within a millisecond; uuids have no order). Adding an identity
-- column numbers the rows already there.
alter table public.sync_logs add column if not exists seq bigint generated always as identity;
alter table public.error_logs add column if not exists seq bigint generated always as identity;
create index if not exists sync_logs_session_seq_idx on public.sync_logs (session_id, seq);
create index if not exists error_logs_session_seq_idx on public.error_logs (session_id, seq);

-- Writes a session's log lines and categorised errors. p: { "session_id": uuid (null for an error
-- outside a session), "logs": [{ operation, entity_type, entity_id, status, details }],
-- "errors": [{ error_type, error_message, stack_trace, context }] }. The worker sanitises and caps
-- (core/hubspot/session-log.ts); the caps are repeated here so no caller can write a huge line.
-- The tables' checks refuse a bad line (23514): the whole call writes nothing then.
create or replace function public.sync_hubspot_log_write(p jsonb) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_session uuid := (p ->> 'session_id')::uuid;
  v_logs integer;
  v_errors integer;
begin
  insert into public.sync_logs (session_id, operation, entity_type, entity_id, status, details)
  select v_session, l ->> 'operation', l ->> 'entity_type', left(l ->> 'entity_id', 200), l ->> 'status',
         nullif(l -> 'details', 'null'::jsonb)
    from jsonb_array_elements(coalesce(p -> 'logs', '[]')) l;
  get diagnostics v_logs = row_count;
  insert into public.error_logs (session_id, error_type, error_message, stack_trace, context)
  select v_session, e ->> 'error_type', left(e ->> 'error_message', 2000), left(e ->> 'stack_trace', 4000),
         nullif(e -> 'context', 'null'::jsonb)
    from jsonb_array_elements(coalesce(p -> 'errors', '[]')) e;
  get diagnostics v_errors = row_count;
  return jsonb_build_object('logs', v_logs, 'errors', v_errors);
end $$;

-- A session's move or progress (0010's sync_hubspot_session_advance) and its log lines in one round
-- trip. A log line that cannot be written (a check refuses it) never fails the sync: it is rolled
-- back alone (the block's savepoint), the move stands, and the answer carries `log_error` for the
-- worker to log.
create or replace function public.sync_hubspot_session_advance_logged(p_id uuid, p_status text, p_progress jsonb,
                                                                      p_log jsonb)
returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_answer jsonb := public.sync_hubspot_session_advance(p_id, p_status, p_progress);
begin
  if v_answer is not null and p_log is not null then
    begin
      perform public.sync_hubspot_log_write(p_log || jsonb_build_object('session_id', p_id));
    exception when others then
      v_answer := v_answer || jsonb_build_object('log_error', left(sqlerrm, 500));
    end;
  end if;
  return v_answer;
end $$;

-- ---------------------------------------------------------------------------------------------
-- Reads.

-- The events after a cursor, oldest first (at most 500): what the stream sends.
create or replace function public.sync_hubspot_events_after(p_after bigint, p_limit integer) returns jsonb
language sql stable security definer set search_path = '' as $$
  select coalesce(jsonb_agg(to_jsonb(e) order by e.seq), '[]'::jsonb) from (
    select * from public.hubspot_sync_events e
     where e.seq > coalesce(p_after, 0)
     order by e.seq limit least(greatest(coalesce(p_limit, 100), 1), 500)) e
$$;

-- The newest event's seq (0 when none): where a client that wants only what comes next starts.
-- A jsonb number, the same through both transports (as 0013's high-water mark).
create or replace function public.sync_hubspot_events_head() returns jsonb
language sql stable security definer set search_path = '' as $$
  select to_jsonb(coalesce(max(seq), 0)) from public.hubspot_sync_events
$$;

-- A session's lines of p_table (sync_logs or error_logs, nothing else) in writing order, after
-- p_after (at most 200 a page).
create or replace function public.sync_hubspot_session_lines(p_table text, p_session_id uuid, p_after bigint,
                                                             p_limit integer)
returns jsonb
language plpgsql stable security definer set search_path = '' as $$
declare
  v_out jsonb;
begin
  if p_table is null or p_table not in ('sync_logs', 'error_logs') then
    raise exception 'INVALID_ARGUMENT: p_table must be sync_logs or error_logs' using errcode = '22023';
  end if;
  execute format($sql$
    select coalesce(jsonb_agg(to_jsonb(l) order by l.seq), '[]'::jsonb) from (
      select * from public.%I l
       where l.session_id = $1 and l.seq > coalesce($2, 0)
       order by l.seq limit least(greatest(coalesce($3, 50), 1), 200)) l
  $sql$, p_table) into v_out using p_session_id, p_after, p_limit;
  return v_out;
end $$;

-- Every migration that creates a table or function ends so (0007, 0010): RLS on the new table with
-- nothing for anon / authenticated, EXECUTE on the new public.sync_* functions for service_role only.
select sync.restrict_api_access();
