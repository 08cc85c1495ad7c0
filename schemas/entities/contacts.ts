import { z } from "zod";
import { defineEntity } from "../define-entity";
import { nullableText, parseInstant, text, utcTimestamp, uuid, version } from "../fields";
import { contactUuid, isHubSpotObjectId } from "../hubspot/contact-id";

/**
 * An address HubSpot could deliver to: one @, a local part and a dotted domain, no spaces or
 * control characters. Deliberately loose (HubSpot is the authority on its contacts); it refuses
 * what cannot be an address at all, which would link a contact to the wrong prospect or none.
 */
const EMAIL = /^[^\s@\u0000-\u001f]{1,64}@[^\s@.\u0000-\u001f]+(\.[^\s@.\u0000-\u001f]+)+$/;
const email = () => text().max(254).regex(EMAIL, "must be an email address (local@domain.tld)");

/** Property values keyed by property name, keys sorted: two reads of one state compare equal. */
const properties = () =>
  z
    .record(text().min(1), text().nullable())
    .transform((p) => Object.fromEntries(Object.entries(p).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));

/**
 * HubSpot contacts, held in Supabase (`public.contacts`, migration supabase/0010). HubSpot is the
 * authority; the fetch side turns what it reads into events (producers/hubspot-contacts.ts).
 *
 * Version = HubSpot's `updatedAt` in milliseconds since the epoch. Safe as invariant 1's version:
 * HubSpot moves updatedAt forward on every change of the object, so it grows per contact; two
 * changes within one millisecond carry one version, and as far as anything outside HubSpot can
 * know they are one state (a read returns the latest); if two reads of one version ever differ,
 * the replica refuses the second with VERSION_CONTENT_CONFLICT instead of picking one silently.
 * An older change never overwrites a newer one (invariant 2). Archived contacts are tombstones:
 * a delete event at max(archivedAt, updatedAt) in milliseconds.
 *
 * The row carries only what HubSpot says. Supabase adds three columns of its own, derived at each
 * write and never carried by events: `prospect_id` (the prospect with the same email), `last_sync`
 * and `sync_status` (see the migration).
 */
export const contacts = defineEntity({
  name: "contacts",
  table: "contacts",
  authority: "hubspot",
  replica: "supabase",
  row: z
    .object({
      id: uuid(),
      hubspot_id: text().refine(isHubSpotObjectId, "must be a HubSpot object id (decimal digits, at most 2^63 - 1)"),
      email: email().nullable(),
      first_name: nullableText(),
      last_name: nullableText(),
      phone: nullableText(),
      company: nullableText(),
      data: properties(),
      created_at: utcTimestamp(),
      updated_at: utcTimestamp(),
      version: version(),
    })
    .superRefine((row, ctx) => {
      if (isHubSpotObjectId(row.hubspot_id) && row.id !== contactUuid(row.hubspot_id))
        ctx.addIssue({
          code: "custom",
          path: ["id"],
          message: "must be the UUID of hubspot_id (schemas/hubspot/contact-id.ts)",
        });
      const at = parseInstant(row.updated_at);
      if ("ms" in at && at.ms !== row.version)
        ctx.addIssue({
          code: "custom",
          path: ["version"],
          message: "must be updated_at in milliseconds since the epoch",
        });
    }),
});
