import type { HubSpotWebhookEvent } from "../../schemas/hubspot-webhook";
import type { HubSpotClient } from "./client";
import type { HubSpotContact } from "./contact";

/**
 * The current state of every contact a webhook batch mentions. An event only says that something
 * happened; what we pass on is the contact as HubSpot holds it now (state transfer), so the events'
 * order, duplicates and types do not matter. Live contacts come from one batch read; those it
 * misses are read again as archived (deleted in HubSpot: they become tombstones); ids missing
 * from both (merged away, GDPR-deleted) are returned as `unknown`.
 */
export async function contactsOfEvents(
  client: HubSpotClient,
  events: HubSpotWebhookEvent[],
): Promise<{ contacts: HubSpotContact[]; unknown: string[] }> {
  const ids = [
    ...new Set(events.filter((e) => e.subscriptionType.startsWith("contact.")).map((e) => String(e.objectId))),
  ];
  if (ids.length === 0) return { contacts: [], unknown: [] };
  const live = await client.batchRead(ids);
  if (live.missing.length === 0) return { contacts: live.results, unknown: [] };
  const archived = await client.batchRead(live.missing, { archived: true });
  return { contacts: [...live.results, ...archived.results], unknown: archived.missing };
}
