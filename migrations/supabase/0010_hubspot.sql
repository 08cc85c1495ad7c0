-- Issue 13, seed 002: HubSpot contacts as a replica, and the HubSpot sync's own tables.
--
-- contacts: a replica like emails. HubSpot is the authority (schemas/entities/contacts.ts); events
-- carry HubSpot's state and sync_apply_batch writes it by the version rule (version = HubSpot's
-- updatedAt in ms). Three columns are Supabase's own, derived at each write and never carried by
-- an event: prospect_id, last_sync, sync_status. sync.replica_tables names them, so the apply's
-- equal-version comparison ignores them (a duplicate event is not a conflict because last_sync
-- moved or a prospect appeared since).
--
-- hubspot_connections, sync_sessions, sync_logs, hubspot_audit_logs, error_logs: written by the
-- worker only. RLS on with no policy, nothing for anon or authenticated (sync.private_tables,
-- applied by sync.restrict_api_access below); service_role keeps its Supabase default access.
-- Tokens are stored only as AES-GCM ciphertext + iv + key id (core/hubspot/token-cipher.ts).

-- ---------------------------------------------------------------------------------------------
-- contacts

create table if not exists public.contacts (
  id uuid primary key,
  hubspot_id text not null constraint contacts_hubspot_id_key unique
    constraint contacts_hubspot_id_digits check (hubspot_id ~ '^[1-9][0-9]{0,18}$'),
  email text,
  first_name text,
  last_name text,
  phone text,
  company text,
  -- Every property the fetch asked for, as HubSpot sent it (strings or null).
  data jsonb not null constraint contacts_data_object check (jsonb_typeof(data) = 'object'),
  created_at timestamptz(3) not null,
  updated_at timestamptz(3) not null,
  version bigint not null constraint contacts_version_positive check (version > 0),
  -- Derived here (sync.derive_contact_columns), not carried by events:
  prospect_id uuid references public.prospects (id) on delete set null,
  last_sync timestamptz(3) not null default now(),
  sync_status text not null default 'synced'
    constraint contacts_sync_status check (sync_status in ('synced', 'pending', 'error'))
);
create index if not exists contacts_email_lower_idx on public.contacts (lower(email));
create index if not exists contacts_prospect_idx on public.contacts (prospect_id);
create index if not exists contacts_sync_status_idx on public.contacts (sync_status);
create index if not exists contacts_last_sync_idx on public.contacts (last_sync);

-- The prospect a contact belongs to: the one with the same email, case-insensitively; of several
-- (integrity reports duplicates), the oldest, so the choice is stable. Served by 0002's prospects_contact_email_idx.
create or replace function sync.prospect_for_email(p_email text) returns uuid
language sql stable security definer set search_path = '' as $$
  select p.id from public.prospects p
   where p_email is not null and lower(p.contact_email) = lower(p_email)
   order by p.created_at, p.id limit 1
$$;

-- BEFORE INSERT/UPDATE on contacts: the link is recomputed at every write; last_sync and
-- sync_status move only when a new version arrives (a relink is not a sync). A row is here only
-- once its event applied, so it is 'synced'; a failed change waits in D1's failed_tasks.
create or replace function sync.derive_contact_columns() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  new.prospect_id := sync.prospect_for_email(new.email);
  if tg_op = 'INSERT' or new.version is distinct from old.version then
    new.last_sync := now();
    new.sync_status := 'synced';
  else
    new.last_sync := old.last_sync;
    new.sync_status := old.sync_status;
  end if;
  return new;
end $$;
drop trigger if exists sync_derive_columns on public.contacts;
create trigger sync_derive_columns before insert or update on public.contacts
  for each row execute function sync.derive_contact_columns();

-- AFTER a prospect appears, disappears or changes its email: contacts with the old or the new
-- email are linked again (a contact synced before its prospect existed gets its link then).
create or replace function sync.relink_contacts() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  v_emails text[] := array[]::text[];
begin
  if tg_op in ('UPDATE', 'DELETE') and old.contact_email is not null then
    v_emails := v_emails || lower(old.contact_email);
  end if;
  if tg_op in ('UPDATE', 'INSERT') and new.contact_email is not null then
    v_emails := v_emails || lower(new.contact_email);
  end if;
  if tg_op = 'UPDATE' and lower(old.contact_email) is not distinct from lower(new.contact_email) then
    return null;
  end if;
  update public.contacts c set prospect_id = sync.prospect_for_email(c.email)
   where lower(c.email) = any (v_emails)
     and c.prospect_id is distinct from sync.prospect_for_email(c.email);
  return null;
end $$;
drop trigger if exists sync_relink_contacts on public.prospects;
create trigger sync_relink_contacts after insert or delete or update of contact_email on public.prospects
  for each row execute function sync.relink_contacts();

-- Columns a replica derives itself: not in events, not compared by the version rule's
-- equal-version check.
alter table sync.replica_tables add column if not exists derived_columns text[] not null default '{}';
insert into sync.replica_tables (entity, derived_columns)
  values ('contacts', '{prospect_id,last_sync,sync_status}')
  on conflict (entity) do update set derived_columns = excluded.derived_columns;

select sync.constrain_timestamps('contacts');

-- As in 0008, except that the equal-version comparison leaves out the table's derived columns,
-- and that the answer is small (issue 14):
--
-- The answer lists every event, made small: `conflict` appears only when true, and the
-- held row's `updated_at` only when the replica holds a newer version than the event, the only
-- case the worker reads it (regression detection, core/apply-batch.ts); core/stores/
-- supabase-replica.ts reads a missing `conflict` as false and a missing `updated_at` as none.
-- ~55 bytes an event instead of ~120: a batch of 100 answers in ~6 KB instead of ~12 KB.
-- Why: in the bench (bench/RESULTS.md) the same call on a new connection took 63.6 ms per batch
-- of 100 with the full answer and 22 ms when it answered only the answer's length, on the local
-- stack (workerd, wrangler's Hyperdrive proxy, Postgres), where an answer over Postgres' 8 KB
-- send buffer came back ~40 ms late; directly from Node the two cost the same.
--
-- Also tried for issue 14 and not kept: per-entity plpgsql functions with static SQL, generated by
-- the migration, were no faster warm and slower on a new backend (bench/worker/proposed-per-entity-sql.ts).
create or replace function public.sync_apply_batch(p_events jsonb) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_entity text;
  v_cols text;
  v_set text;
  v_derived text[];
  v_out jsonb := '[]'::jsonb;
  v_part jsonb;
begin
  if jsonb_typeof(p_events) is distinct from 'array' then
    raise exception 'INVALID_BATCH: p_events must be a json array' using errcode = '22023';
  end if;

  for v_entity in select distinct e ->> 'entity' from jsonb_array_elements(p_events) e loop
    select r.derived_columns into v_derived from sync.replica_tables r where r.entity = v_entity;
    if not found then
      raise exception 'NOT_A_REPLICA: % is not replicated into this database', v_entity using errcode = '22023';
    end if;

    select c.cols, c.set_list into v_cols, v_set from sync.column_lists(v_entity) c;

    if exists (select 1 from jsonb_array_elements(p_events) e where e ->> 'entity' = v_entity and e ->> 'op' = 'delete') then
      execute format($sql$
        insert into sync.tombstones as t (entity, id, version)
        select distinct on ((e -> 'key' ->> 'id')::uuid) %1$L, (e -> 'key' ->> 'id')::uuid, (e ->> 'version')::bigint
          from jsonb_array_elements($1) e
         where e ->> 'entity' = %1$L and e ->> 'op' = 'delete'
         order by (e -> 'key' ->> 'id')::uuid, (e ->> 'version')::bigint desc
        on conflict (entity, id) do update set version = excluded.version, deleted_at = now()
         where t.version < excluded.version
      $sql$, v_entity) using p_events;

      execute format($sql$
        delete from public.%1$I r using sync.tombstones t
         where t.entity = %2$L and t.id = r.id and t.version > r.version
           and r.id in (select (e -> 'key' ->> 'id')::uuid from jsonb_array_elements($1) e
                         where e ->> 'entity' = %2$L and e ->> 'op' = 'delete')
      $sql$, v_entity, v_entity) using p_events;
    end if;

    execute format($sql$
      insert into public.%1$I as r (%2$s)
      select (x.rec).* from (
        select distinct on (p.id) p as rec
          from jsonb_array_elements($1) e
         cross join lateral jsonb_populate_record(null::public.%1$I, e -> 'row') p
         where e ->> 'entity' = %3$L and e ->> 'op' = 'upsert'
         order by p.id, p.version desc
      ) x
      where not exists (select 1 from sync.tombstones t
                         where t.entity = %3$L and t.id = (x.rec).id and t.version >= (x.rec).version)
      on conflict (id) do update set %4$s where r.version < excluded.version
    $sql$, v_entity, v_cols, v_entity, v_set) using p_events;

    -- The answer, made small with jsonb_strip_nulls: `conflict` is null unless true and `updated_at` null
    -- unless the row held is newer than the event, and then they are left out of the answer.
    execute format($sql$
      select coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
               'event_id', e ->> 'id',
               'current_version', greatest(coalesce(r.version, 0), coalesce(t.version, 0)),
               'conflict', nullif(case
                 when e ->> 'op' = 'delete' then coalesce(r.version = (e ->> 'version')::bigint, false)
                 else greatest(coalesce(r.version, 0), coalesce(t.version, 0)) = (e ->> 'version')::bigint
                      and not coalesce(r.version = (e ->> 'version')::bigint
                                       and to_jsonb(r) - $2 = to_jsonb(jsonb_populate_record(null::public.%1$I, e -> 'row')) - $2, false)
               end, false),
               'updated_at', case when r.version >= coalesce(t.version, 0) and r.version > (e ->> 'version')::bigint
                                  then r.updated_at end))), '[]'::jsonb)
        from jsonb_array_elements($1) e
        left join public.%1$I r on r.id = (e -> 'key' ->> 'id')::uuid
        left join sync.tombstones t on t.entity = %2$L and t.id = (e -> 'key' ->> 'id')::uuid
       where e ->> 'entity' = %2$L
    $sql$, v_entity, v_entity) into v_part using p_events, v_derived;
    v_out := v_out || v_part;
  end loop;
  return v_out;
end $$;

-- ---------------------------------------------------------------------------------------------
-- The HubSpot sync's own tables (seed 002), the worker's alone.

-- Tables in public that only the worker uses: RLS on, nothing for anon and authenticated.
create table if not exists sync.private_tables (name text primary key);

-- One row per HubSpot portal. Status flow (schemas/hubspot/connection-status.ts, enforced by the
-- transition trigger): pending → connected | error | disconnected; connected → error |
-- disconnected; error → connected | pending | disconnected; disconnected → pending.
create table if not exists public.hubspot_connections (
  id uuid primary key default gen_random_uuid(),
  portal_id bigint not null constraint hubspot_connections_portal_key unique
    constraint hubspot_connections_portal_positive check (portal_id > 0),
  scopes text[] not null default '{}',
  status text not null default 'pending'
    constraint hubspot_connections_status check (status in ('pending', 'connected', 'error', 'disconnected')),
  -- AES-GCM 256: ciphertext (with its 16-byte tag) and the 12-byte iv of each token, and the id
  -- of the key (HUBSPOT_TOKEN_KEYS) both were sealed with. Never the token itself.
  token_key_id text constraint hubspot_connections_key_id check (token_key_id ~ '^[A-Za-z0-9_-]{1,32}$'),
  access_token_ciphertext bytea,
  access_token_iv bytea,
  refresh_token_ciphertext bytea,
  refresh_token_iv bytea,
  expires_at timestamptz(3),
  last_error text,
  created_at timestamptz(3) not null default now(),
  updated_at timestamptz(3) not null default now(),
  constraint hubspot_connections_tokens_sealed check (
    (access_token_ciphertext is null) = (access_token_iv is null)
    and (refresh_token_ciphertext is null) = (refresh_token_iv is null)
    and (access_token_iv is null or octet_length(access_token_iv) = 12)
    and (refresh_token_iv is null or octet_length(refresh_token_iv) = 12)
    and (access_token_ciphertext is null or octet_length(access_token_ciphertext) > 16)
    and (refresh_token_ciphertext is null or octet_length(refresh_token_ciphertext) > 16)
    and (coalesce(access_token_ciphertext, refresh_token_ciphertext) is null or token_key_id is not null)),
  -- Seed 002: a connection holds tokens and their expiry; one that is connected must.
  constraint hubspot_connections_connected_has_tokens check (
    status <> 'connected' or (access_token_ciphertext is not null and refresh_token_ciphertext is not null
                              and expires_at is not null)),
  -- Disconnecting forgets the tokens.
  constraint hubspot_connections_disconnected_no_tokens check (
    status <> 'disconnected' or coalesce(access_token_ciphertext, refresh_token_ciphertext) is null)
);

-- Sync sessions (seed 002): pending → running → completed | failed, and pending → failed.
create table if not exists public.sync_sessions (
  id uuid primary key default gen_random_uuid(),
  session_id text not null constraint sync_sessions_session_id_key unique
    constraint sync_sessions_session_id_length check (length(session_id) between 1 and 200),
  connection_id uuid references public.hubspot_connections (id) on delete set null,
  type text not null constraint sync_sessions_type check (type in ('full', 'incremental')),
  status text not null default 'pending'
    constraint sync_sessions_status check (status in ('pending', 'running', 'completed', 'failed')),
  start_time timestamptz(3),
  end_time timestamptz(3),
  records_count integer not null default 0 constraint sync_sessions_records_count check (records_count >= 0),
  error_count integer not null default 0 constraint sync_sessions_error_count check (error_count >= 0),
  archived_count integer not null default 0 constraint sync_sessions_archived_count check (archived_count >= 0),
  -- Resume point: HubSpot's paging cursor of the next page to read (null: from the start / done).
  after_cursor text,
  -- Incremental sync: contacts modified at or after this were not all read yet.
  high_water_mark timestamptz(3),
  error text,
  created_at timestamptz(3) not null default now(),
  updated_at timestamptz(3) not null default now(),
  -- Seed: end time after start time. Running or done means started; done means ended.
  constraint sync_sessions_times check (end_time is null or start_time is null or end_time >= start_time),
  constraint sync_sessions_started check (status not in ('running', 'completed') or start_time is not null),
  constraint sync_sessions_ended check ((status in ('completed', 'failed')) = (end_time is not null)),
  constraint sync_sessions_failed_error check (status <> 'failed' or error is not null)
);
-- One session in flight per connection: two syncs of one portal would share its rate budget and
-- race on the high-water mark.
create unique index if not exists sync_sessions_one_active_idx on public.sync_sessions (connection_id)
  where status in ('pending', 'running');
create index if not exists sync_sessions_created_idx on public.sync_sessions (created_at);

create table if not exists public.sync_logs (
  id uuid primary key default gen_random_uuid(),
  session_id uuid not null references public.sync_sessions (id) on delete cascade,
  operation text not null constraint sync_logs_operation check (operation in ('create', 'update', 'delete', 'sync')),
  entity_type text not null constraint sync_logs_entity_type check (entity_type in ('contact', 'company', 'deal')),
  entity_id text not null,
  "timestamp" timestamptz(3) not null default now(),
  status text not null constraint sync_logs_status check (status in ('success', 'error', 'warning')),
  details jsonb constraint sync_logs_details_object check (details is null or jsonb_typeof(details) = 'object')
);
create index if not exists sync_logs_session_idx on public.sync_logs (session_id);
create index if not exists sync_logs_timestamp_idx on public.sync_logs ("timestamp");

-- The seed's audit_logs, prefixed: a generic public.audit_logs may already be the CRM app's own,
-- and `create table if not exists` would then silently adopt a table of another shape.
create table if not exists public.hubspot_audit_logs (
  id uuid primary key default gen_random_uuid(),
  entity_type text not null,
  entity_id text not null,
  operation text not null constraint hubspot_audit_logs_operation check (operation in ('create', 'update', 'delete')),
  old_data jsonb,
  new_data jsonb,
  user_id text,
  "timestamp" timestamptz(3) not null default now(),
  ip_address inet,
  user_agent text,
  -- Seed: old/new data consistent with the operation.
  constraint hubspot_audit_logs_data check (
    (operation = 'create' and old_data is null and new_data is not null)
    or (operation = 'update' and old_data is not null and new_data is not null)
    or (operation = 'delete' and old_data is not null and new_data is null))
);
create index if not exists hubspot_audit_logs_entity_idx on public.hubspot_audit_logs (entity_type, entity_id);
create index if not exists hubspot_audit_logs_timestamp_idx on public.hubspot_audit_logs ("timestamp");

create table if not exists public.error_logs (
  id uuid primary key default gen_random_uuid(),
  session_id uuid references public.sync_sessions (id) on delete set null,
  -- Seed: errors must be categorised.
  error_type text not null constraint error_logs_error_type
    check (error_type in ('auth', 'rate_limit', 'network', 'hubspot_api', 'validation', 'storage', 'internal')),
  error_message text not null,
  stack_trace text,
  context jsonb constraint error_logs_context_object check (context is null or jsonb_typeof(context) = 'object'),
  "timestamp" timestamptz(3) not null default now(),
  resolved boolean not null default false
);
create index if not exists error_logs_session_idx on public.error_logs (session_id);
create index if not exists error_logs_timestamp_idx on public.error_logs ("timestamp");

insert into sync.private_tables (name) values
  ('hubspot_connections'), ('sync_sessions'), ('sync_logs'), ('hubspot_audit_logs'), ('error_logs')
on conflict do nothing;

-- Status machines (schemas/hubspot/*.ts hold the same pairs; test/hubspot-sessions.test.ts checks).
insert into sync.state_transitions (entity, field, from_state, to_state) values
  ('sync_sessions', 'status', 'pending', 'running'), ('sync_sessions', 'status', 'pending', 'failed'),
  ('sync_sessions', 'status', 'running', 'completed'), ('sync_sessions', 'status', 'running', 'failed'),
  ('hubspot_connections', 'status', 'pending', 'connected'), ('hubspot_connections', 'status', 'pending', 'error'),
  ('hubspot_connections', 'status', 'pending', 'disconnected'),
  ('hubspot_connections', 'status', 'connected', 'error'), ('hubspot_connections', 'status', 'connected', 'disconnected'),
  ('hubspot_connections', 'status', 'error', 'connected'), ('hubspot_connections', 'status', 'error', 'pending'),
  ('hubspot_connections', 'status', 'error', 'disconnected'),
  ('hubspot_connections', 'status', 'disconnected', 'pending')
on conflict do nothing;
drop trigger if exists sync_enforce_transition on public.sync_sessions;
create trigger sync_enforce_transition before update of status on public.sync_sessions
  for each row execute function sync.enforce_transition('status');
drop trigger if exists sync_enforce_transition on public.hubspot_connections;
create trigger sync_enforce_transition before update of status on public.hubspot_connections
  for each row execute function sync.enforce_transition('status');

-- ---------------------------------------------------------------------------------------------
-- The worker's calls (core/hubspot/*.ts). Sessions:

-- p_session: { "session_id": text, "type": "full"|"incremental", "connection_id": uuid|null }
create or replace function public.sync_hubspot_session_create(p_session jsonb) returns jsonb
language sql volatile security definer set search_path = '' as $$
  insert into public.sync_sessions (session_id, type, connection_id)
  values (p_session ->> 'session_id', p_session ->> 'type', (p_session ->> 'connection_id')::uuid)
  returning to_jsonb(sync_sessions)
$$;

create or replace function public.sync_hubspot_session_get(p_id uuid) returns jsonb
language sql stable security definer set search_path = '' as $$
  select to_jsonb(s) from public.sync_sessions s where s.id = p_id
$$;

-- Moves a session to p_status (or keeps it running, for progress) and records progress:
-- p_progress: { "records_count", "error_count", "archived_count": totals so far, "after": cursor,
-- "high_water_mark": timestamptz, "error": text, "expect_status": text }, each optional. Totals never go down and the
-- cursor moves only with a total at least as high, so a repeated or late progress call is
-- harmless. Returns { "refused": bool, "session": row } (null when there is no such session);
-- a move the status machine does not allow is refused, nothing written.
create or replace function public.sync_hubspot_session_advance(p_id uuid, p_status text, p_progress jsonb)
returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_row public.sync_sessions;
  v_records integer := (p_progress ->> 'records_count')::integer;
begin
  select * into v_row from public.sync_sessions where id = p_id for update;
  if not found then
    return null;
  end if;
  -- Progress names the status it expects (running): it never starts or revives a session itself.
  if (p_progress ? 'expect_status' and v_row.status is distinct from p_progress ->> 'expect_status')
     or not ((p_status = v_row.status and p_status = 'running') or exists (
      select 1 from sync.state_transitions t
       where t.entity = 'sync_sessions' and t.field = 'status' and t.from_state = v_row.status and t.to_state = p_status)) then
    return jsonb_build_object('refused', true, 'session', to_jsonb(v_row));
  end if;
  update public.sync_sessions s set
    status = p_status,
    start_time = case when p_status = 'running' then coalesce(s.start_time, now()) else s.start_time end,
    end_time = case when p_status in ('completed', 'failed') then now() else s.end_time end,
    records_count = greatest(s.records_count, coalesce(v_records, s.records_count)),
    error_count = greatest(s.error_count, coalesce((p_progress ->> 'error_count')::integer, s.error_count)),
    archived_count = greatest(s.archived_count, coalesce((p_progress ->> 'archived_count')::integer, s.archived_count)),
    after_cursor = case when p_progress ? 'after' and coalesce(v_records, s.records_count) >= s.records_count
                        then p_progress ->> 'after' else s.after_cursor end,
    high_water_mark = greatest(s.high_water_mark, (p_progress ->> 'high_water_mark')::timestamptz),
    error = coalesce(p_progress ->> 'error', s.error),
    updated_at = now()
  where s.id = p_id
  returning * into v_row;
  return jsonb_build_object('refused', false, 'session', to_jsonb(v_row));
end $$;

-- Connections. Ciphertexts and ivs travel as base64 text (without the line breaks encode() adds).
create or replace function sync.base64(p bytea) returns text
language sql immutable set search_path = '' as $$ select translate(encode(p, 'base64'), E'\n', '') $$;

create or replace function sync.connection_json(c public.hubspot_connections) returns jsonb
language sql immutable set search_path = '' as $$
  select to_jsonb(c) - array['access_token_ciphertext', 'access_token_iv', 'refresh_token_ciphertext', 'refresh_token_iv']
    || jsonb_build_object(
         'access_token', case when c.access_token_ciphertext is not null then jsonb_build_object(
           'ciphertext', sync.base64(c.access_token_ciphertext), 'iv', sync.base64(c.access_token_iv)) end,
         'refresh_token', case when c.refresh_token_ciphertext is not null then jsonb_build_object(
           'ciphertext', sync.base64(c.refresh_token_ciphertext), 'iv', sync.base64(c.refresh_token_iv)) end)
$$;

-- Saves a portal's sealed tokens after an authorization or a refresh, and marks it connected.
-- p: { "portal_id", "scopes": [..], "token_key_id", "access_token": {ciphertext, iv},
--      "refresh_token": {ciphertext, iv}, "expires_at" }
create or replace function public.sync_hubspot_connection_save(p jsonb) returns jsonb
language sql volatile security definer set search_path = '' as $$
  insert into public.hubspot_connections as c (portal_id, scopes, status, token_key_id, access_token_ciphertext,
      access_token_iv, refresh_token_ciphertext, refresh_token_iv, expires_at, last_error)
  values ((p ->> 'portal_id')::bigint,
          coalesce(array(select jsonb_array_elements_text(p -> 'scopes')), '{}'), 'connected', p ->> 'token_key_id',
          decode(p -> 'access_token' ->> 'ciphertext', 'base64'), decode(p -> 'access_token' ->> 'iv', 'base64'),
          decode(p -> 'refresh_token' ->> 'ciphertext', 'base64'), decode(p -> 'refresh_token' ->> 'iv', 'base64'),
          (p ->> 'expires_at')::timestamptz, null)
  on conflict (portal_id) do update set
    scopes = excluded.scopes, status = excluded.status, token_key_id = excluded.token_key_id,
    access_token_ciphertext = excluded.access_token_ciphertext, access_token_iv = excluded.access_token_iv,
    refresh_token_ciphertext = excluded.refresh_token_ciphertext, refresh_token_iv = excluded.refresh_token_iv,
    expires_at = excluded.expires_at, last_error = null, updated_at = now()
  returning sync.connection_json(c)
$$;

create or replace function public.sync_hubspot_connection_get(p_id uuid) returns jsonb
language sql stable security definer set search_path = '' as $$
  select sync.connection_json(c) from public.hubspot_connections c where c.id = p_id
$$;

-- Moves a connection's status: error (a refresh failed; p_error says why), disconnected (the
-- tokens are forgotten), pending (a new authorization started). Returns { "refused": bool,
-- "connection": row } (null when there is no such connection); a move the status machine does
-- not allow is refused, nothing written. Connected is reached by sync_hubspot_connection_save.
create or replace function public.sync_hubspot_connection_move(p_id uuid, p_status text, p_error text) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_row public.hubspot_connections;
begin
  select * into v_row from public.hubspot_connections where id = p_id for update;
  if not found then
    return null;
  end if;
  if p_status = 'connected' or not exists (
      select 1 from sync.state_transitions t
       where t.entity = 'hubspot_connections' and t.field = 'status' and t.from_state = v_row.status and t.to_state = p_status) then
    return jsonb_build_object('refused', true, 'connection', sync.connection_json(v_row) - array['access_token', 'refresh_token']);
  end if;
  update public.hubspot_connections c set
    status = p_status,
    last_error = case when p_status = 'error' then p_error else c.last_error end,
    token_key_id = case when p_status = 'disconnected' then null else c.token_key_id end,
    access_token_ciphertext = case when p_status = 'disconnected' then null else c.access_token_ciphertext end,
    access_token_iv = case when p_status = 'disconnected' then null else c.access_token_iv end,
    refresh_token_ciphertext = case when p_status = 'disconnected' then null else c.refresh_token_ciphertext end,
    refresh_token_iv = case when p_status = 'disconnected' then null else c.refresh_token_iv end,
    expires_at = case when p_status = 'disconnected' then null else c.expires_at end,
    updated_at = now()
  where c.id = p_id
  returning * into v_row;
  return jsonb_build_object('refused', false, 'connection', sync.connection_json(v_row) - array['access_token', 'refresh_token']);
end $$;

-- Connections whose tokens are sealed under another key than p_key_id, in id order after p_after:
-- what rotation re-seals, one page at a time.
create or replace function public.sync_hubspot_connections_sealed_under_other(p_key_id text, p_after uuid, p_limit integer)
returns jsonb
language sql stable security definer set search_path = '' as $$
  select coalesce(jsonb_agg(sync.connection_json(c) order by c.id), '[]'::jsonb) from (
    select * from public.hubspot_connections c
     where c.token_key_id is distinct from p_key_id and coalesce(c.access_token_ciphertext, c.refresh_token_ciphertext) is not null
       and (p_after is null or c.id > p_after)
     order by c.id limit p_limit) c
$$;

-- Rotation's write: the same tokens sealed under another key, only if the row is still sealed
-- as it was read (p_expected_key_id and the old access ciphertext): a refresh that saved new
-- tokens meanwhile wins. Returns whether the row was re-sealed.
-- p: { "token_key_id", "expected_key_id", "expected_access_ciphertext", "access_token": {..}, "refresh_token": {..} }
create or replace function public.sync_hubspot_connection_reseal(p_id uuid, p jsonb) returns boolean
language plpgsql volatile security definer set search_path = '' as $$
begin
  update public.hubspot_connections c set
    token_key_id = p ->> 'token_key_id',
    access_token_ciphertext = decode(p -> 'access_token' ->> 'ciphertext', 'base64'),
    access_token_iv = decode(p -> 'access_token' ->> 'iv', 'base64'),
    refresh_token_ciphertext = decode(p -> 'refresh_token' ->> 'ciphertext', 'base64'),
    refresh_token_iv = decode(p -> 'refresh_token' ->> 'iv', 'base64'),
    updated_at = now()
  where c.id = p_id and c.token_key_id is not distinct from p ->> 'expected_key_id'
    and c.access_token_ciphertext is not distinct from decode(p ->> 'expected_access_ciphertext', 'base64');
  return found;
end $$;

-- ---------------------------------------------------------------------------------------------
-- sync.restrict_api_access, extended: 0007's policy (kept as sync.restrict_api_access_0007, which
-- this calls), then the worker-only tables of sync.private_tables: RLS on, nothing for anon and
-- authenticated; service_role keeps Supabase's default (it is the worker's role). Every later
-- migration and sync.make_authoritative call it by its old name.
alter function sync.restrict_api_access() rename to restrict_api_access_0007;
create function sync.restrict_api_access() returns void
language plpgsql set search_path = '' as $$
declare
  r record;
begin
  perform sync.restrict_api_access_0007();
  for r in select to_regclass(format('public.%I', x.name)) as t from sync.private_tables x
            where to_regclass(format('public.%I', x.name)) is not null loop
    execute format('alter table %s enable row level security', r.t);
    execute format('revoke all on table %s from public', r.t);
    perform sync.for_role('anon', format('revoke all on table %s from %%I', r.t));
    perform sync.for_role('authenticated', format('revoke all on table %s from %%I', r.t));
  end loop;
end $$;

select sync.restrict_api_access();
