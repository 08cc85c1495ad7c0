import { LAST_MODIFIED_PROPERTY, type HubSpotContact } from "./contact";
import type { HubSpotClient } from "./client";

/**
 * The contacts modified in [fromMs, toMs], in pages, each contact once.
 *
 * Search pages are not read with HubSpot's `after` cursor. That cursor is an offset, and offsets
 * into a live result set lose rows: when a contact we already read is modified during the scan
 * it leaves the window, every later row moves up one place, and the row that moves into the
 * offset we already passed is never read. The search API also refuses to page past 10,000 results.
 * So each query narrows the window instead (keyset paging): the next query starts at the last
 * timestamp read, and the contacts at that timestamp already read are skipped. When a whole page
 * shares one millisecond (a bulk import), that millisecond is read by `hs_object_id` order. No
 * query ever pages, so neither the ceiling nor moving rows can hide a contact.
 */
export async function* contactsModifiedBetween(
  client: HubSpotClient,
  fromMs: number,
  toMs: number,
): AsyncGenerator<HubSpotContact[]> {
  let lower = fromMs;
  let readAtLower = new Set<string>();
  while (lower <= toMs) {
    const page = await client.searchModifiedBetween(lower, toMs);
    const fresh = page.results.filter((c) => !(modifiedMs(c) === lower && readAtLower.has(c.id)));
    if (fresh.length > 0) yield fresh;
    if (!page.paging?.next) return;
    const last = modifiedMs(page.results.at(-1)!);
    if (last === lower) {
      // The whole page is at `lower` (it is sorted), and what it held has been yielded.
      for (const c of page.results) readAtLower.add(c.id);
      yield* sameMillisecond(client, lower, readAtLower);
      lower += 1;
      readAtLower = new Set();
    } else {
      lower = last;
      readAtLower = new Set(page.results.filter((c) => modifiedMs(c) === last).map((c) => c.id));
    }
  }
}

/** Every contact modified at exactly `ms` not in `skip`, by ascending id (the id is the keyset). */
async function* sameMillisecond(
  client: HubSpotClient,
  ms: number,
  skip: Set<string>,
): AsyncGenerator<HubSpotContact[]> {
  let afterId = "0";
  for (;;) {
    const page = await client.search({
      filters: [
        { propertyName: LAST_MODIFIED_PROPERTY, operator: "EQ", value: String(ms) },
        { propertyName: "hs_object_id", operator: "GT", value: afterId },
      ],
      sortBy: "hs_object_id",
    });
    const fresh = page.results.filter((c) => !skip.has(c.id));
    if (fresh.length > 0) yield fresh;
    if (!page.paging?.next || page.results.length === 0) return;
    afterId = page.results.at(-1)!.id;
  }
}

/** When a contact was last modified, ms: the search property, else the object's updatedAt. */
export function modifiedMs(contact: HubSpotContact): number {
  const value = contact.properties[LAST_MODIFIED_PROPERTY] ?? contact.updatedAt;
  return /^\d+$/.test(value) ? Number(value) : Date.parse(value);
}

/**
 * The window an incremental run searches: from the last high-water mark minus an overlap, up to
 * now. The overlap re-reads recent changes (duplicates are harmless: the version rule makes them
 * no-ops) so that a change stamped with the same millisecond as the mark, or indexed by HubSpot's
 * search a little late, is not skipped. After a complete run the new mark is `toMs`.
 */
export function incrementalWindow(highWaterMs: number, nowMs: number, overlapMs = 5 * 60 * 1000) {
  return { fromMs: Math.max(0, highWaterMs - overlapMs), toMs: nowMs };
}

/** Every contact, page by page through the list endpoint (`after` from paging.next.after); resumable from `after`. */
export async function* allContacts(
  client: HubSpotClient,
  opts: { after?: string; archived?: boolean } = {},
): AsyncGenerator<{ contacts: HubSpotContact[]; next?: string }> {
  let after = opts.after;
  do {
    const page = await client.listContacts({ after, archived: opts.archived });
    after = page.paging?.next?.after;
    yield { contacts: page.results, next: after };
  } while (after);
}
