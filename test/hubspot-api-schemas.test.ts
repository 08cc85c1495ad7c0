import { describe, expect, it } from "vitest";
import { createSession } from "../core/hubspot/sessions";
import { postgresRpc } from "../core/stores/supabase-postgres";
import { hubspotContactsPageSchema, hubspotSessionsPageSchema, hubspotSyncStatusSchema } from "../schemas/hubspot-api";
import { contact, contactRows, eventsFor, newHubSpotId, sendToQueue } from "./support/hubspot";
import { call, pg, SECRETS, waitFor } from "./support/helpers";

// The HubSpot sync's read routes answer what /v1/openapi.json says they answer: the document names
// them with their schemas, and real answers (contacts applied through the queue, a session
// recorded in Postgres) parse with those schemas, no field more or less.

type Doc = {
  paths: Record<string, Record<string, { parameters: Array<{ name: string }>; responses: Record<string, unknown> }>>;
};

const get = async (path: string) => {
  const res = await call("GET", path, { token: SECRETS.admin });
  expect(res.status, path).toBe(200);
  return res.json.data as unknown;
};

describe("HubSpot sync routes in the OpenAPI document", () => {
  it("names contacts, sync, sync/status and sessions, with their parameters and statuses", async () => {
    const doc = (await call("GET", "/v1/openapi.json")).json as unknown as Doc;
    const names = (path: string, method: string) => doc.paths[path]![method]!.parameters.map((p) => p.name);
    expect(names("/v1/hubspot/contacts", "get")).toEqual(
      expect.arrayContaining(["email", "sync_status", "updated_since", "after", "limit"]),
    );
    expect(names("/v1/hubspot/sessions", "get")).toEqual(expect.arrayContaining(["before", "limit"]));
    expect(doc.paths["/v1/hubspot/sync/status"]!.get).toBeDefined();
    const sync = doc.paths["/v1/hubspot/sync"]!.post!;
    expect(sync.parameters.map((p) => p.name)).toContain("x-operator");
    expect(Object.keys(sync.responses)).toEqual(expect.arrayContaining(["200", "202", "409"]));
  });

  it("real answers parse with the documented schemas (strict)", async () => {
    const id = newHubSpotId();
    await sendToQueue("to-supabase", (await eventsFor([contact(id, "2025-12-01T00:00:00.000Z")])).events);
    await waitFor(async () => (await contactRows(id)).length === 1, "a contact applied");
    await createSession(postgresRpc(pg()), { sessionId: `doc-${crypto.randomUUID()}`, type: "full" });

    const contacts = hubspotContactsPageSchema
      .extend({ items: hubspotContactsPageSchema.shape.items.element.strict().array() })
      .strict()
      .parse(await get(`/v1/hubspot/contacts?email=c${id}@example.test`));
    expect(contacts.items).toMatchObject([
      { hubspot_id: id, sync_status: "synced", version: Date.parse("2025-12-01") },
    ]);

    const sessions = hubspotSessionsPageSchema
      .extend({ items: hubspotSessionsPageSchema.shape.items.element.strict().array() })
      .strict()
      .parse(await get("/v1/hubspot/sessions?limit=5"));
    expect(sessions.items.length).toBeGreaterThan(0);

    const status = hubspotSyncStatusSchema.strict().parse(await get("/v1/hubspot/sync/status"));
    expect(status.session).not.toBeNull();
  });
});
