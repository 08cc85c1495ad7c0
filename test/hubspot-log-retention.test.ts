import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createSession } from "../core/hubspot/sessions";
import { postgresRpc } from "../core/stores/supabase-postgres";
import { pruneExpired } from "../src/services/retention";
import { asRole } from "./support/as-role";
import { pg } from "./support/helpers";

const DAY = 86_400_000;
const rpc = () => postgresRpc(pg());

describe("HubSpot log retention (migration 0018, the hourly retention)", () => {
  it("deletes sync_logs and error_logs lines older than HUBSPOT_LOG_RETENTION_DAYS, keeping newer ones and the session", async () => {
    const session = await createSession(rpc(), { sessionId: `retention-${crypto.randomUUID()}`, type: "full" });
    const at = (daysAgo: number) => new Date(Date.now() - daysAgo * DAY).toISOString();
    const line = (entityId: string, daysAgo: number) =>
      pg()`insert into public.sync_logs (session_id, operation, entity_type, entity_id, status, "timestamp")
           values (${session.id}, 'sync', 'contact', ${entityId}, 'success', ${at(daysAgo)}) returning id`;
    const error = (message: string, daysAgo: number) =>
      pg()`insert into public.error_logs (session_id, error_type, error_message, "timestamp")
           values (${session.id}, 'network', ${message}, ${at(daysAgo)}) returning id`;
    await line("live:old", 91);
    await line("live:new", 89);
    await error("old outage", 120);
    await error("recent outage", 1);

    const pruned = await pruneExpired({ db: env.DB, rpc: rpc(), hubspotLogRetentionDays: 90 });
    expect(pruned.supabase.hubspotLogs.sync_logs).toBeGreaterThanOrEqual(1);
    expect(pruned.supabase.hubspotLogs.error_logs).toBeGreaterThanOrEqual(1);
    const logs = await pg()`select entity_id from public.sync_logs where session_id = ${session.id} order by entity_id`;
    expect(logs.map((l) => l.entity_id)).toEqual(["live:new"]);
    const errors = await pg()`select error_message from public.error_logs where session_id = ${session.id}`;
    expect(errors.map((e) => e.error_message)).toEqual(["recent outage"]);
    const kept = await pg()`select 1 from public.sync_sessions where id = ${session.id}`;
    expect(kept).toHaveLength(1);
  });

  it("only the service role may prune", async () => {
    const call = "select public.sync_hubspot_prune_logs(now() - interval '90 days')";
    for (const role of ["anon", "authenticated"] as const)
      expect(await asRole(role, (tx) => tx.unsafe(call)), role).toMatchObject({ ok: false, code: "42501" });
    expect(await asRole("service_role", (tx) => tx.unsafe(call))).toMatchObject({ ok: true });
  });
});
