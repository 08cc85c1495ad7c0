-- supabase-d1-sync: bookkeeping shared by every entity.
-- Applied by `supabase db push` / psql in production and by the dev and test harnesses.

create schema if not exists sync;

-- Transactional change log: one row per change of an authoritative table, written by a trigger
-- in the same transaction as the change. Supabase webhooks (pg_net) are at-most-once; this log is
-- what a sweep republishes from. `txid` (xid8) lets the sweep use a snapshot-xmin horizon instead
-- of a seq cursor, because seq values are not assigned in commit order.
create table if not exists sync.change_log (
  seq bigint generated always as identity primary key,
  txid xid8 not null default pg_current_xact_id(),
  entity text not null,
  row_id uuid not null,
  op text not null check (op in ('upsert', 'delete')),
  version bigint not null,
  row_image jsonb,
  recorded_at timestamptz(3) not null default now()
);
create index if not exists change_log_txid_idx on sync.change_log (txid, seq);

-- Versions of deleted authoritative rows, so a re-inserted id continues above its tombstone
-- instead of restarting at 1 (which every replica would ignore as stale).
create table if not exists sync.source_tombstones (
  entity text not null,
  id uuid not null,
  version bigint not null,
  deleted_at timestamptz(3) not null default now(),
  primary key (entity, id)
);

-- Tombstones of replica rows deleted by events: an older upsert that arrives late is refused.
-- Kept longer than queue retention (Cloudflare Queues keep messages at most 14 days).
create table if not exists sync.tombstones (
  entity text not null,
  id uuid not null,
  version bigint not null,
  deleted_at timestamptz(3) not null default now(),
  primary key (entity, id)
);

-- Tables this database holds as a replica: the only ones sync_apply_batch may write.
create table if not exists sync.replica_tables (entity text primary key);

-- Allowed transitions of state columns (the registry in schemas/ holds the same pairs; a test
-- checks they agree).
create table if not exists sync.state_transitions (
  entity text not null,
  field text not null,
  from_state text not null,
  to_state text not null,
  primary key (entity, field, from_state, to_state)
);

-- BEFORE INSERT/UPDATE on an authoritative table: the store, not the client, owns version and
-- updated_at. A no-op update is skipped entirely (no version bump, no event).
create or replace function sync.stamp_version() returns trigger
language plpgsql set search_path = '' as $$
begin
  if tg_op = 'INSERT' then
    new.version := coalesce(
      (select t.version from sync.source_tombstones t where t.entity = tg_table_name and t.id = new.id), 0) + 1;
    new.updated_at := now();
    new.created_at := coalesce(new.created_at, now());
    return new;
  end if;
  if new.id is distinct from old.id then
    raise exception 'IMMUTABLE_KEY: %.id cannot change', tg_table_name using errcode = '23514';
  end if;
  new.version := old.version;
  new.updated_at := old.updated_at;
  new.created_at := old.created_at;
  if new is not distinct from old then
    return null;
  end if;
  new.version := old.version + 1;
  new.updated_at := now();
  return new;
end $$;

-- AFTER INSERT/UPDATE/DELETE on an authoritative table: the change-log row commits or rolls back
-- with the change itself.
create or replace function sync.record_change() returns trigger
language plpgsql set search_path = '' as $$
begin
  if tg_op = 'DELETE' then
    insert into sync.source_tombstones (entity, id, version) values (tg_table_name, old.id, old.version + 1)
      on conflict (entity, id) do update set version = excluded.version, deleted_at = now();
    insert into sync.change_log (entity, row_id, op, version, row_image)
      values (tg_table_name, old.id, 'delete', old.version + 1, null);
    return old;
  end if;
  insert into sync.change_log (entity, row_id, op, version, row_image)
    values (tg_table_name, new.id, 'upsert', new.version, to_jsonb(new));
  return new;
end $$;

-- BEFORE UPDATE: refuse a transition that sync.state_transitions does not list.
-- tg_argv[0] names the state column.
create or replace function sync.enforce_transition() returns trigger
language plpgsql set search_path = '' as $$
declare
  v_from text := to_jsonb(old) ->> tg_argv[0];
  v_to text := to_jsonb(new) ->> tg_argv[0];
begin
  if v_from is distinct from v_to and not exists (
    select 1 from sync.state_transitions s
    where s.entity = tg_table_name and s.field = tg_argv[0] and s.from_state = v_from and s.to_state = v_to
  ) then
    raise exception 'INVALID_TRANSITION: %.% cannot go from % to %', tg_table_name, tg_argv[0], v_from, v_to
      using errcode = '23514', hint = 'see sync.state_transitions for the allowed moves';
  end if;
  return new;
end $$;

-- Installs the version, change-log and (optionally) transition triggers on an authoritative table.
create or replace function sync.make_authoritative(p_table text, p_state_field text default null) returns void
language plpgsql set search_path = '' as $$
begin
  execute format('drop trigger if exists sync_stamp_version on public.%I', p_table);
  execute format('create trigger sync_stamp_version before insert or update on public.%I
                  for each row execute function sync.stamp_version()', p_table);
  execute format('drop trigger if exists sync_record_change on public.%I', p_table);
  execute format('create trigger sync_record_change after insert or update or delete on public.%I
                  for each row execute function sync.record_change()', p_table);
  if p_state_field is not null then
    execute format('drop trigger if exists sync_enforce_transition on public.%I', p_table);
    execute format('create trigger sync_enforce_transition before update of %I on public.%I
                    for each row execute function sync.enforce_transition(%L)', p_state_field, p_table, p_state_field);
  end if;
end $$;
