/**
 * HubSpot names a contact by its object id (a positive 64-bit integer, sent as a string); every
 * row of ours is keyed by a UUID (events, tombstones, failed_tasks). The contact's UUID is the
 * object id written into a fixed UUID shape, not a hash: the same contact always gets the same
 * UUID, on every path (full sync, incremental sync, webhook), with no lookup, and the HubSpot id
 * can be read back from a failed task's row id after its payload was purged (refresh replay).
 *
 *   68756273-706f-8hhh-8hhh-hhhhhhhhhhhh   ("hubspo" in ASCII, version 8 = custom, RFC 4122
 *                                           variant; 18 hex digits of the id, zero-padded)
 */
const PREFIX = "68756273-706f-8";
const SHAPE = /^68756273-706f-8([0-9a-f]{3})-8([0-9a-f]{3})-([0-9a-f]{12})$/;
const MAX_OBJECT_ID = (1n << 63n) - 1n;

/** The object id as HubSpot writes it: decimal digits, no sign, no leading zero, at most 2^63 - 1. */
export function isHubSpotObjectId(id: string): boolean {
  return /^[1-9][0-9]{0,18}$/.test(id) && BigInt(id) <= MAX_OBJECT_ID;
}

/** The contact's row id. Throws on an id that is not a HubSpot object id (callers validate first). */
export function contactUuid(hubspotId: string): string {
  if (!isHubSpotObjectId(hubspotId)) throw new Error(`not a HubSpot object id: ${JSON.stringify(hubspotId)}`);
  const hex = BigInt(hubspotId).toString(16).padStart(18, "0");
  return `${PREFIX}${hex.slice(0, 3)}-8${hex.slice(3, 6)}-${hex.slice(6)}`;
}

/** The HubSpot object id a contact row id stands for, or null when it is not one of ours. */
export function hubspotIdOfContact(uuid: string): string | null {
  const m = SHAPE.exec(uuid.toLowerCase());
  if (!m) return null;
  const id = BigInt(`0x${m[1]}${m[2]}${m[3]}`).toString();
  return isHubSpotObjectId(id) ? id : null;
}
