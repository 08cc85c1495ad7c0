import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, d1Row, pg, pgRow, SECRETS, waitFor, webhookPayload } from "./support/helpers";

describe("Supabase webhook -> to-d1 -> D1", () => {
  it("applies an insert, an update and a delete of a prospect", async () => {
    const id = crypto.randomUUID();
    await pg()`insert into prospects (id, name, contact_email) values (${id}, 'Acme Hotel', 'gm@acme.test')`;
    const inserted = await pgRow("prospects", id);
    const r1 = await call("POST", "/webhooks/supabase", {
      token: SECRETS.webhook,
      body: webhookPayload("INSERT", "prospects", inserted),
    });
    expect(r1.status).toBe(202);
    expect(r1.json.data.eventId).toMatch(/^[0-9A-Z]{26}$/);
    const row = await waitFor(() => d1Row("prospects", id), "prospect in D1");
    expect(row).toMatchObject({ name: "Acme Hotel", stage: "new", version: 1, email_bounced: 0 });
    expect(row.updated_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    await pg()`update prospects set stage = 'enriched' where id = ${id}`;
    const updated = await pgRow("prospects", id);
    await call("POST", "/webhooks/supabase", {
      token: SECRETS.webhook,
      body: webhookPayload("UPDATE", "prospects", updated, inserted),
    });
    await waitFor(async () => (await d1Row("prospects", id))?.version === 2, "version 2 in D1");

    await pg()`delete from prospects where id = ${id}`;
    await call("POST", "/webhooks/supabase", {
      token: SECRETS.webhook,
      body: webhookPayload("DELETE", "prospects", null, updated),
    });
    await waitFor(async () => (await d1Row("prospects", id)) === null, "prospect deleted in D1");

    const state = await env.DB.prepare(
      "SELECT applied_total, last_event_id, last_applied_at FROM sync_entity_state WHERE entity = 'prospects'",
    ).first<Record<string, unknown>>();
    expect(Number(state!.applied_total)).toBeGreaterThanOrEqual(3);
    expect(state!.last_event_id).toMatch(/^[0-9A-Z]{26}$/);
  });
});
