import { describe, expect, it } from "vitest";
import { ENTITIES } from "../schemas/registry";
import { asRole, type Tx } from "./support/as-role";
import { pg } from "./support/helpers";

// The test Postgres is set up as a Supabase project is (migrations/dev/supabase_roles.sql): the API
// roles exist and default privileges grant them every new object in `public`. These tests act as
// each role, the way PostgREST does (`set role` inside the request's transaction).

const syncedTables = ENTITIES.filter((e) => e.replica !== null || e.authority === "supabase").map((e) => e.table);
const authoritativeTables = ENTITIES.filter((e) => e.authority === "supabase" && e.replica !== null).map(
  (e) => e.table,
);

async function someProspect(): Promise<string> {
  const [row] = await pg()`insert into prospects (name) values ('Role test hotel') returning id`;
  return row!.id as string;
}

describe("Supabase API roles: anon (the public anon key)", () => {
  it("can read, insert, update, delete or truncate none of our tables", async () => {
    const id = await someProspect();
    for (const table of syncedTables) {
      for (const statement of [
        `select count(*) from public.${table}`,
        `update public.${table} set version = 9007199254740992 where id = '${id}'`,
        `delete from public.${table}`,
        `truncate public.${table} cascade`,
      ]) {
        const result = await asRole("anon", (tx) => tx.unsafe(statement));
        expect(result, `anon: ${statement}`).toMatchObject({ ok: false, code: "42501" });
      }
    }
    const insert = await asRole("anon", (tx) => tx`insert into prospects (name) values ('anon was here')`);
    expect(insert).toMatchObject({ ok: false, code: "42501" });
  });

  it("cannot set an email's version to 2^53 (what would have masked every later email change)", async () => {
    const email = await asRole("anon", (tx) => tx`update public.emails set version = 9007199254740992`);
    expect(email).toMatchObject({ ok: false, code: "42501" });
  });

  it("can call none of our functions and cannot use schema sync", async () => {
    for (const call of [
      "select public.sync_ping()",
      "select public.sync_apply_batch('[]'::jsonb)",
      "select public.sync_changes_after('0', 0, 1)",
      "select count(*) from sync.change_log",
    ]) {
      const result = await asRole("anon", (tx) => tx.unsafe(call));
      expect(result, `anon: ${call}`).toMatchObject({ ok: false, code: "42501" });
    }
  });
});

describe("Supabase API roles: service_role (supabase-js with the service-role key)", () => {
  it("writes the authoritative tables: the sync triggers stamp the version and log the change", async () => {
    const result = await asRole("service_role", async (tx) => {
      const [inserted] =
        await tx`insert into prospects (name) values ('Written as service_role') returning id, version`;
      const [updated] = await tx`update prospects set stage = 'enriching' where id = ${inserted!.id} returning version`;
      const bad = await tx`update prospects set stage = 'won' where id = ${inserted!.id}`.catch(
        (e: { code: string; message: string }) => e,
      );
      return { id: inserted!.id as string, inserted: inserted!.version, updated: updated!.version, bad };
    });
    expect(result.ok, JSON.stringify(result)).toBe(true);
    if (!result.ok) return;
    expect(Number(result.value.inserted)).toBe(1);
    expect(Number(result.value.updated)).toBe(2);
    // The stage machine still holds for the API.
    expect(result.value.bad).toMatchObject({ code: "23514" });
    expect((result.value.bad as { message: string }).message).toMatch(/INVALID_TRANSITION/);
  });

  it("records the change log and the source tombstone when it deletes", async () => {
    const id = await someProspect();
    const result = await asRole("service_role", async (tx) => {
      await tx`delete from prospects where id = ${id}`;
      await tx.unsafe("reset role");
      return tx`select op, version from sync.change_log where row_id = ${id} order by seq`;
    });
    expect(result.ok, JSON.stringify(result)).toBe(true);
    if (result.ok) expect(result.value.map((r) => r.op)).toEqual(["upsert", "delete"]);
  });

  it("cannot push a row's version: only the owner's re-stamp may jump, by a grant the API roles cannot write", async () => {
    const id = await someProspect();
    const result = await asRole("service_role", async (tx) => {
      await tx`select set_config('sync.restamp', 'on', true)`; // the flag an earlier draft trusted
      const [row] =
        await tx`update prospects set version = 9007199254740000, score = 1 where id = ${id} returning version`;
      const grant =
        await tx`insert into sync.restamp_grants (txid, entity, id, version) values (pg_current_xact_id(), 'prospects', ${id}, 99)`.catch(
          (e: { code: string }) => e,
        );
      return { version: Number(row!.version), grant };
    });
    expect(result).toMatchObject({ ok: true, value: { version: 2, grant: { code: "42501" } } });
  });

  it("may call the worker's functions but not write the emails replica (only the sync writes a replica)", async () => {
    expect(await asRole("service_role", (tx) => tx`select public.sync_ping()`)).toMatchObject({ ok: true });
    expect(await asRole("service_role", (tx) => tx`select count(*) from public.emails`)).toMatchObject({ ok: true });
    for (const statement of [
      "update public.emails set version = version + 1",
      "delete from public.emails",
      "truncate public.emails",
    ]) {
      expect(await asRole("service_role", (tx) => tx.unsafe(statement)), statement).toMatchObject({
        ok: false,
        code: "42501",
      });
    }
  });
});

describe("Supabase API roles: authenticated (a signed-in user of the CRM app)", () => {
  it("sees and writes no row until the app adds a policy", async () => {
    await someProspect();
    const read = await asRole("authenticated", (tx) => tx`select count(*)::int as n from prospects`);
    expect(read).toMatchObject({ ok: true, value: [{ n: 0 }] });
    const insert = await asRole("authenticated", (tx) => tx`insert into prospects (name) values ('no policy')`);
    expect(insert).toMatchObject({ ok: false, code: "42501" });
    expect(insert.ok ? "" : insert.message).toMatch(/row-level security/);
    expect(await asRole("authenticated", (tx) => tx`truncate prospects cascade`)).toMatchObject({
      ok: false,
      code: "42501",
    });
  });

  it("writes under the app's policy, and the sync triggers run for it", async () => {
    const user = crypto.randomUUID();
    const result = await asRole(
      "authenticated",
      async (tx) => {
        const [row] = await tx`insert into prospects (name) values ('Written by a CRM user') returning id, version`;
        await tx`update prospects set score = 7 where id = ${row!.id}`;
        await tx.unsafe("reset role");
        const log = await tx`select op, version from sync.change_log where row_id = ${row!.id} order by seq`;
        return { version: row!.version, log };
      },
      {
        claims: { sub: user, role: "authenticated", crm_role: "sales" },
        // What the README suggests a CRM app adds (here: users whose JWT says they are in sales).
        setup: (tx) =>
          tx.unsafe(`create policy sales_team on public.prospects for all to authenticated
                     using ((select auth.jwt()) ->> 'crm_role' = 'sales') with check ((select auth.jwt()) ->> 'crm_role' = 'sales')`),
      },
    );
    expect(result.ok, JSON.stringify(result)).toBe(true);
    if (!result.ok) return;
    expect(Number(result.value.version)).toBe(1);
    expect(result.value.log.map((r) => [r.op, Number(r.version)])).toEqual([
      ["upsert", 1],
      ["upsert", 2],
    ]);
  });

  it("cannot write the emails replica even under a permissive policy", async () => {
    const result = await asRole("authenticated", (tx) => tx`update public.emails set body = 'x'`, {
      setup: (tx) =>
        tx.unsafe("create policy everything on public.emails for all to authenticated using (true) with check (true)"),
    });
    expect(result).toMatchObject({ ok: false, code: "42501" });
  });
});

describe("Supabase's database linter finds nothing on our objects", () => {
  // The checks of Supabase's linter (splinter) that concern what we create, restated over the
  // catalogue: RLS disabled on an exposed table, a policy on a table without RLS, a function
  // with a mutable search_path, a SECURITY DEFINER function executable by anon or authenticated.
  const ours = `(n.nspname = 'sync' or (n.nspname = 'public'))`;

  it("RLS is enabled on every table of ours; no policy sits on a table without RLS", async () => {
    const rows = await pg().unsafe(`
      select n.nspname || '.' || c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p') and ${ours} and not c.relrowsecurity`);
    expect(rows.map((r) => r.name)).toEqual([]);
    const orphanPolicies = await pg().unsafe(`
      select c.relname from pg_policy p join pg_class c on c.oid = p.polrelid where not c.relrowsecurity`);
    expect(orphanPolicies).toEqual([]);
    const tables = await pg().unsafe(`
      select count(*)::int as n from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind = 'r' and ${ours}`);
    expect(tables[0]!.n).toBeGreaterThanOrEqual(syncedTables.length + 5);
  });

  it("every function of ours has an empty search_path", async () => {
    const rows = await pg().unsafe(`
      select p.oid::regprocedure::text as name from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where ${ours} and not coalesce(p.proconfig, '{}') && array['search_path=""']`);
    expect(rows.map((r) => r.name)).toEqual([]);
  });

  it("no SECURITY DEFINER function is executable by anon or authenticated", async () => {
    const rows = await pg().unsafe(`
      select p.oid::regprocedure::text as name, r.role from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      cross join (values ('anon'), ('authenticated')) r(role)
      where p.prosecdef and n.nspname not in ('pg_catalog', 'information_schema', 'auth', 'net', 'supabase_functions')
        and has_function_privilege(r.role, p.oid, 'EXECUTE')`);
    expect(rows).toEqual([]);
    const definers = await pg().unsafe(
      `select count(*)::int as n from pg_proc p join pg_namespace n on n.oid = p.pronamespace where p.prosecdef and ${ours}`,
    );
    expect(definers[0]!.n).toBeGreaterThan(3);
  });

  it("a role with no grants (PUBLIC, as on plain Postgres) can execute nothing of ours", async () => {
    await pg().unsafe(
      `do $$ begin create role sds_test_nobody nologin; exception when duplicate_object then null; end $$`,
    );
    const rows = await pg().unsafe(`
      select p.oid::regprocedure::text as name from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where (n.nspname = 'sync' or (n.nspname = 'public' and p.proname like 'sync\\_%'))
        and has_function_privilege('sds_test_nobody', p.oid, 'EXECUTE')`);
    expect(rows.map((r) => r.name)).toEqual([]);
    const [usage] = await pg().unsafe(`select has_schema_privilege('sds_test_nobody', 'sync', 'USAGE') as usage`);
    expect(usage!.usage).toBe(false);
  });

  it("authoritative tables keep the app's DML for authenticated (gated by RLS), never TRUNCATE", async () => {
    for (const table of authoritativeTables) {
      const [p] = await pg().unsafe(`select has_table_privilege('authenticated', 'public.${table}', 'INSERT') as ins,
                                            has_table_privilege('authenticated', 'public.${table}', 'TRUNCATE') as trunc,
                                            has_table_privilege('anon', 'public.${table}', 'SELECT') as anon`);
      expect(p, table).toEqual({ ins: true, trunc: false, anon: false });
    }
  });
});
