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

/** A position in the HubSpot event stream: an event's seq (SSE `id:`), 0 for the start. */
export const eventCursor = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** GET /v1/hubspot/events: resume after `after` (Last-Event-ID, when sent, wins); none: only new events. */
export const hubspotEventsQuery = z.object({ after: eventCursor.optional() }).strict();

/** The console's session detail: a session's logs and errors, each paged by its own cursor. */
export const sessionLogsQuery = z.object({
  logs_after: eventCursor.optional(),
  errors_after: eventCursor.optional(),
});

/** A sync session's id (public.sync_sessions.id) in a path. */
export const sessionIdParam = z.uuid();
