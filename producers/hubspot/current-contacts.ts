import type { HubSpotClient } from "./client";
import type { HubSpotContact } from "./contact";

/**
 * The contacts with these HubSpot ids as HubSpot holds them now: live ones from one batch read,
 * those it misses read again as archived (deleted in HubSpot: they become tombstones). Ids missing
 * from both (merged away, GDPR-deleted) are returned as `unknown`. Shared by the webhook path and
 * refresh replay, so both see an archived contact the same way.
 */
export async function currentContacts(
  client: Pick<HubSpotClient, "batchRead">,
  ids: readonly string[],
): Promise<{ contacts: HubSpotContact[]; unknown: string[] }> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return { contacts: [], unknown: [] };
  const live = await client.batchRead(unique);
  if (live.missing.length === 0) return { contacts: live.results, unknown: [] };
  const archived = await client.batchRead(live.missing, { archived: true });
  return { contacts: [...live.results, ...archived.results], unknown: archived.missing };
}
