import { z } from "zod";

/** POST /v1/hubspot/sync: a full sync (every contact) or, by default, an incremental one. */
export const startHubSpotSyncBody = z.object({ full: z.boolean().default(false) }).strict();

/** GET /v1/hubspot/contacts: exact email (any case), sync status, HubSpot updatedAt at or after; paged by id. */
export const listHubSpotContactsQuery = z.object({
  email: z.string().min(1).max(320).optional(),
  sync_status: z.enum(["synced", "pending", "error"]).optional(),
  updated_since: z.iso.datetime({ offset: true }).optional(),
  after: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

/** GET /v1/hubspot/sessions: newest first; `before` is the created_at of the last one seen. */
export const listHubSpotSessionsQuery = z.object({
  before: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(20),
});
