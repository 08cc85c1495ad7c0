import { expect } from "vitest";
import { env } from "cloudflare:test";
import { contactEvents } from "../../producers/hubspot-contacts";
import type { SyncEvent } from "../../schemas/event";
import type { HubSpotContact } from "../../schemas/hubspot/contact";
import { contactUuid } from "../../schemas/hubspot/contact-id";
import { call, pg, SECRETS } from "./helpers";

let nextId = 7_000_000_000 + Math.floor(Math.random() * 1_000_000) * 1000;
/** A HubSpot object id no other test uses. */
export const newHubSpotId = () => String(++nextId);

/** A contact as HubSpot's CRM v3 API returns it. */
export function contact(
  id: string,
  updatedAt: string,
  props: Record<string, string | null> = {},
  extra: Partial<HubSpotContact> = {},
): HubSpotContact {
  return {
    id,
    properties: {
      email: `c${id}@example.test`,
      firstname: "Ada",
      lastname: "Lovelace",
      phone: null,
      company: "Analytical Engines",
      hs_object_id: id,
      createdate: "2024-01-02T03:04:05.678Z",
      lastmodifieddate: updatedAt,
      ...props,
    },
    createdAt: "2024-01-02T03:04:05.678Z",
    updatedAt,
    archived: false,
    ...extra,
  };
}

export async function eventsFor(list: HubSpotContact[]) {
  const made = await contactEvents(list, "hubspot-sync");
  expect(made.queue).toBe("to-supabase");
  return made;
}

/**
 * Through the real queue and its consumer (a request context of its own). Calling the queue
 * handler from the test instead leaves its Postgres client in the test's context, which raises an
 * unhandled "Stream was cancelled" once idle for 5 s (see test/change-log-isolation.test.ts).
 */
export async function sendToQueue(queue: "to-supabase" | "to-supabase-dlq", bodies: unknown[]) {
  const binding = queue === "to-supabase" ? env.TO_SUPABASE : env.TO_SUPABASE_DLQ;
  await binding.sendBatch(bodies.map((body) => ({ body: body as SyncEvent, contentType: "json" as const })));
}

export async function contactRows(hubspotId: string) {
  return pg()<
    Array<Record<string, any>>
  >`select c.*, c.version::float8 as v from contacts c where hubspot_id = ${hubspotId}`;
}

export async function tombstone(hubspotId: string) {
  const [t] =
    await pg()`select version::float8 as v from sync.tombstones where entity = 'contacts' and id = ${contactUuid(hubspotId)}`;
  return t ? Number(t.v) : null;
}

export const failedTasksApi = (method: string, path: string, body?: unknown) =>
  call(method, `/v1/admin/failed-tasks${path}`, {
    token: SECRETS.admin,
    body,
    headers: { "x-operator": "test-operator" },
  });

export async function contactTask(rowId: string) {
  const list = await failedTasksApi("GET", `?entity=contacts&limit=200`);
  return (list.json.data.items as Array<Record<string, any>>).find((t) => t.row_id === rowId) ?? null;
}
