-- Issue 10: timestamps limited, at the source, to the one range both stores accept.
--
-- timestamptz takes 4713 BC … 294276 AD and ±infinity; D1 holds timestamps as
-- `YYYY-MM-DDTHH:MM:SS.sssZ` text and the registry (schemas/fields.ts, utcTimestamp) accepts only
-- 0001-01-01T00:00:00.000Z … 9999-12-31T23:59:59.999Z. A row outside that range could be committed
-- here and then be refused by every consumer, reconciliation and backfill. These CHECKs refuse it
-- at the write instead. `between` is false for ±infinity, so infinity is refused as well; null
-- passes (nullable columns stay nullable).
--
-- The emails replica gets the same constraints: its rows come from validated events, so they can
-- only ever fire on a direct write, which should be refused too.
--
-- No CHECK for NUL in text: Postgres text cannot hold the NUL character at all (the input is
-- refused with "invalid byte sequence"/"unsupported Unicode escape"), so there is nothing to
-- check here. The registry refuses NUL in D1-authoritative text (schemas/fields.ts, text()).
--
-- NOT VALID, then VALIDATE only where safe: ADD CONSTRAINT … NOT VALID checks new writes at once
-- without scanning the table; VALIDATE scans it. Where an existing row is out of range the
-- migration would fail (and roll back everything) if it validated, so that constraint is left
-- NOT VALID, new writes are still checked, and a NOTICE names the table, column and count: fix
-- those rows, then run `alter table public.<t> validate constraint <t>_<column>_in_range`.
-- The migration runner applies this file in one transaction, so the ACCESS EXCLUSIVE lock taken by
-- ADD CONSTRAINT is held through the VALIDATE scans; these tables are small CRM tables. For a very
-- large table, run the VALIDATE statements separately afterwards (they then take only a SHARE
-- UPDATE EXCLUSIVE lock, which lets reads and writes continue).
-- One table's timestamp columns: used below for the CRM tables, and by a migration that adds an
-- entity (README, "Adding an entity").
create or replace function sync.constrain_timestamps(p_table text) returns void
language plpgsql set search_path = '' as $$
declare
  c record;
  v_name text;
  v_bad bigint;
  v_range constant text := $r$%I between timestamptz '0001-01-01 00:00:00+00' and timestamptz '9999-12-31 23:59:59.999+00'$r$;
begin
  for c in
    select col.table_name, col.column_name
      from information_schema.columns col
     where col.table_schema = 'public' and col.table_name = p_table
       and col.data_type = 'timestamp with time zone'
     order by col.ordinal_position
  loop
    v_name := format('%s_%s_in_range', c.table_name, c.column_name);
    if exists (select 1 from pg_catalog.pg_constraint where conname = v_name and conrelid = format('public.%I', c.table_name)::regclass) then
      continue;
    end if;
    execute format('alter table public.%I add constraint %I check (' || v_range || ') not valid',
                   c.table_name, v_name, c.column_name);
    execute format('select count(*) from public.%I where not (' || v_range || ')', c.table_name, c.column_name) into v_bad;
    if v_bad = 0 then
      execute format('alter table public.%I validate constraint %I', c.table_name, v_name);
    else
      raise notice '%.% has % rows outside 0001-01-01 … 9999-12-31 (or infinite): % left NOT VALID; fix them, then validate it',
        c.table_name, c.column_name, v_bad, v_name;
    end if;
  end loop;
end $$;

select sync.constrain_timestamps(t) from unnest(array['prospects', 'campaigns', 'mailboxes', 'inbox_items', 'emails']) t;

select sync.restrict_api_access();
