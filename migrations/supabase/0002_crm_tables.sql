-- CRM tables. Supabase is authoritative for prospects, campaigns, mailboxes and inbox_items
-- (replicated to D1) and holds a replica of emails (authoritative in D1).
-- Every replicated table has a uuid `id`, a `version` and a UTC `updated_at` with millisecond
-- precision (timestamptz(3)), so both stores hold identical values.

create table if not exists public.prospects (
  id uuid primary key default gen_random_uuid(),
  name text not null check (name <> ''),
  city text,
  country text,
  contact_name text,
  contact_email text,
  contact_title text,
  phone text,
  website text,
  linkedin_url text,
  stage text not null default 'new'
    check (stage in ('new','enriching','enriched','ready','contacted','engaged','meeting','won','lost','archived')),
  tier text,
  score integer not null default 0,
  lead_source text,
  email_bounced boolean not null default false,
  archived boolean not null default false,
  created_at timestamptz(3) not null default now(),
  updated_at timestamptz(3) not null default now(),
  version bigint not null default 1
);
create index if not exists prospects_contact_email_idx on public.prospects (lower(contact_email));

create table if not exists public.mailboxes (
  id uuid primary key default gen_random_uuid(),
  email text not null,
  display_name text,
  provider text not null default 'smtp',
  status text not null default 'active' check (status in ('active','warming','paused','disabled')),
  daily_limit integer not null default 50 check (daily_limit >= 0),
  health_score integer not null default 100 check (health_score between 0 and 100),
  created_at timestamptz(3) not null default now(),
  updated_at timestamptz(3) not null default now(),
  version bigint not null default 1
);

create table if not exists public.campaigns (
  id uuid primary key default gen_random_uuid(),
  name text not null check (name <> ''),
  status text not null default 'draft' check (status in ('draft','active','paused','completed','archived')),
  mailbox_id uuid references public.mailboxes (id) on delete set null,
  subject_template text,
  body_template text,
  daily_limit integer not null default 100 check (daily_limit >= 0),
  timezone text not null default 'UTC',
  started_at timestamptz(3),
  created_at timestamptz(3) not null default now(),
  updated_at timestamptz(3) not null default now(),
  version bigint not null default 1
);

create table if not exists public.inbox_items (
  id uuid primary key default gen_random_uuid(),
  mailbox_id uuid not null references public.mailboxes (id) on delete cascade,
  prospect_id uuid references public.prospects (id) on delete set null,
  email_id uuid,
  message_id text,
  from_email text not null,
  subject text,
  snippet text,
  category text,
  is_read boolean not null default false,
  received_at timestamptz(3) not null default now(),
  created_at timestamptz(3) not null default now(),
  updated_at timestamptz(3) not null default now(),
  version bigint not null default 1
);

-- Replica of D1's emails. Values come from events; no triggers stamp them here.
-- prospect_id must name a prospect of this database: an email for an unknown prospect is refused
-- (and dead-lettered with FOREIGN_KEY_VIOLATION) rather than stored as an orphan.
create table if not exists public.emails (
  id uuid primary key,
  prospect_id uuid not null references public.prospects (id),
  campaign_id uuid,
  mailbox_id uuid,
  direction text not null check (direction in ('outbound','inbound')),
  to_email text not null,
  from_email text not null,
  subject text not null,
  body text not null,
  message_id text,
  status text not null
    check (status in ('pending','sent','delivered','opened','clicked','replied','bounced','failed')),
  sent_at timestamptz(3),
  delivered_at timestamptz(3),
  opened_at timestamptz(3),
  clicked_at timestamptz(3),
  replied_at timestamptz(3),
  bounced_at timestamptz(3),
  failed_at timestamptz(3),
  error text,
  created_at timestamptz(3) not null,
  updated_at timestamptz(3) not null,
  version bigint not null,
  -- No status past "pending" without the time it was reached (seed 000: no "sent" without sent_at).
  constraint emails_status_timestamps check (
    (status <> 'failed' or failed_at is not null) and
    (status in ('pending','failed') or sent_at is not null) and
    (status <> 'delivered' or delivered_at is not null) and
    (status <> 'opened' or opened_at is not null) and
    (status <> 'clicked' or clicked_at is not null) and
    (status <> 'replied' or replied_at is not null) and
    (status <> 'bounced' or bounced_at is not null)
  )
);
create index if not exists emails_prospect_idx on public.emails (prospect_id);

insert into sync.state_transitions (entity, field, from_state, to_state) values
  ('prospects','stage','new','enriching'), ('prospects','stage','new','enriched'), ('prospects','stage','new','archived'),
  ('prospects','stage','enriching','enriched'), ('prospects','stage','enriching','new'), ('prospects','stage','enriching','archived'),
  ('prospects','stage','enriched','ready'), ('prospects','stage','enriched','contacted'), ('prospects','stage','enriched','archived'),
  ('prospects','stage','ready','contacted'), ('prospects','stage','ready','archived'),
  ('prospects','stage','contacted','engaged'), ('prospects','stage','contacted','meeting'), ('prospects','stage','contacted','lost'), ('prospects','stage','contacted','archived'),
  ('prospects','stage','engaged','meeting'), ('prospects','stage','engaged','lost'), ('prospects','stage','engaged','archived'),
  ('prospects','stage','meeting','won'), ('prospects','stage','meeting','lost'), ('prospects','stage','meeting','archived'),
  ('prospects','stage','won','archived'),
  ('prospects','stage','lost','contacted'), ('prospects','stage','lost','archived'),
  ('prospects','stage','archived','new')
on conflict do nothing;

select sync.make_authoritative('prospects', 'stage');
select sync.make_authoritative('campaigns');
select sync.make_authoritative('mailboxes');
select sync.make_authoritative('inbox_items');

insert into sync.replica_tables (entity) values ('emails') on conflict do nothing;
