import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createSession } from "../core/hubspot/sessions";
import { postgresRpc } from "../core/stores/supabase-postgres";
import { asRole } from "./support/as-role";
import { get, post, signIn } from "./support/console";
import { pg } from "./support/helpers";
import { op } from "./support/operator";

const rpc = () => postgresRpc(pg());

/** A session with two unresolved error lines, written as the sync writes them. */
async function sessionWithErrors() {
  const session = await createSession(rpc(), { sessionId: `resolve-${crypto.randomUUID()}`, type: "full" });
  const error = (message: string) => ({ error_type: "network", error_message: message, context: { code: "X" } });
  await rpc().call("sync_hubspot_log_write", {
    p: { session_id: session.id, errors: [error("HubSpot answered 503"), error("HubSpot answered 502")] },
  });
  return session;
}

const resolvedFlags = async (sessionId: string) =>
  (await pg()`select resolved from public.error_logs where session_id = ${sessionId}`).map((r) => r.resolved);

const auditOf = (target: string) =>
  env.DB.prepare("SELECT actor, action, reason, result FROM operator_audit WHERE target_id = ?1 ORDER BY id")
    .bind(target)
    .all<Record<string, unknown>>();

describe("marking a sync session's errors resolved (seed 002's error_logs.resolved)", () => {
  it("the API marks them, audited with its operator and reason; again marks nothing; bad requests change nothing", async () => {
    const session = await sessionWithErrors();
    const path = `/v1/hubspot/sessions/${session.id}/errors/resolve`;

    const noReason = await op("POST", path, {});
    expect(noReason.status).toBe(400);
    expect(noReason.json.error.code).toBe("INVALID_REQUEST");
    const anonymous = await op("POST", path, { reason: "HubSpot's outage is over" }, null);
    expect(anonymous.status).toBe(400);
    expect(anonymous.json.error.code).toBe("OPERATOR_REQUIRED");
    const unknown = await op("POST", `/v1/hubspot/sessions/${crypto.randomUUID()}/errors/resolve`, { reason: "why" });
    expect(unknown.status).toBe(404);
    expect((await op("POST", "/v1/hubspot/sessions/nope/errors/resolve", { reason: "why" })).status).toBe(400);
    expect(await resolvedFlags(session.id)).toEqual([false, false]);

    const done = await op("POST", path, { reason: "HubSpot's outage is over" });
    expect(done.status).toBe(200);
    expect(done.json.data).toEqual({ resolved: 2 });
    expect(await resolvedFlags(session.id)).toEqual([true, true]);
    expect((await op("POST", path, { reason: "again" })).json.data).toEqual({ resolved: 0 });
    const { results } = await auditOf(session.id);
    expect(results[0]).toMatchObject({
      actor: "alice@ops",
      action: "hubspot-errors-resolve",
      reason: "HubSpot's outage is over",
    });
    expect(JSON.parse(String(results[0]!.result))).toEqual({ resolved: 2 });
  });

  it("the console's session page marks them with a reason and says how many", async () => {
    const session = await sessionWithErrors();
    const { cookie, csrf } = await signIn("erin@ops");
    const page = await (await get(`/console/hubspot/sessions/${session.id}`, cookie)).text();
    expect(page).toContain("Mark every error of this session resolved");

    const refused = await post(
      `/console/hubspot/sessions/${session.id}/errors/resolve`,
      { csrf, reason: " " },
      { cookie },
    );
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("Refused (INVALID_REQUEST): reason: ");
    expect(await resolvedFlags(session.id)).toEqual([false, false]);

    const done = await post(
      `/console/hubspot/sessions/${session.id}/errors/resolve`,
      { csrf, reason: "retried fine after the outage" },
      { cookie },
    );
    expect(done.status).toBe(303);
    const location = done.headers.get("location")!;
    expect(location).toBe(`/console/hubspot/sessions/${session.id}?resolved=2#session-errors`);
    const after = await (await get(location.split("#")[0]!, cookie)).text();
    expect(after).toContain("2 error(s) marked resolved.");
    expect(after).not.toContain("Mark every error of this session resolved");
    expect((await auditOf(session.id)).results[0]).toMatchObject({
      actor: "erin@ops",
      action: "hubspot-errors-resolve",
    });
  });

  it("only the service role may mark errors resolved in Supabase", async () => {
    const call = `select public.sync_hubspot_errors_resolve('${crypto.randomUUID()}')`;
    for (const role of ["anon", "authenticated"] as const)
      expect(await asRole(role, (tx) => tx.unsafe(call)), role).toMatchObject({ ok: false, code: "42501" });
    expect(await asRole("service_role", (tx) => tx.unsafe(call))).toMatchObject({ ok: true });
  });
});
