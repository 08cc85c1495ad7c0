import type { HubSpotWebhookEvent } from "../../schemas/hubspot-webhook";
import type { HubSpotClient } from "./client";
import type { HubSpotContact } from "./contact";
import { currentContacts } from "./current-contacts";

/**
 * The current state of every contact a webhook batch mentions. An event only says that something
 * happened; what we pass on is the contact as HubSpot holds it now (state transfer), so the events'
 * order, duplicates and types do not matter. Archived contacts come back archived (tombstones);
 * ids HubSpot no longer knows are returned as `unknown` (see currentContacts).
 */
export function contactsOfEvents(
  client: HubSpotClient,
  events: HubSpotWebhookEvent[],
): Promise<{ contacts: HubSpotContact[]; unknown: string[] }> {
  const ids = events.filter((e) => e.subscriptionType.startsWith("contact.")).map((e) => String(e.objectId));
  return currentContacts(client, ids);
}
