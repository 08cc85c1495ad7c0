import { z } from "zod";
import { hubspotConnectionSchema } from "./hubspot/connection";
import { SYNC_SESSION_STATUSES, SYNC_SESSION_TYPES } from "./hubspot/sync-session";

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

// What the HubSpot routes answer (src/services/hubspot-views.ts), for /v1/openapi.json and the
// tests that parse the answers. Output shapes: timestamps as Postgres's JSON writes them.

/** A sync session without its lease bookkeeping (publicSession). */
export const hubspotSessionSchema = z.object({
  id: z.string(),
  session_id: z.string(),
  connection_id: z.string().nullable(),
  type: z.enum(SYNC_SESSION_TYPES),
  status: z.enum(SYNC_SESSION_STATUSES),
  start_time: z.string().nullable(),
  end_time: z.string().nullable(),
  records_count: z.number().int().nonnegative(),
  error_count: z.number().int().nonnegative(),
  archived_count: z.number().int().nonnegative(),
  /** HubSpot's paging cursor a resumed full sync starts from. */
  after_cursor: z.string().nullable(),
  high_water_mark: z.string().nullable(),
  error: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

/** A contact as Supabase holds it: HubSpot's row (schemas/entities/contacts.ts) and the three columns Supabase derives. */
export const hubspotContactSchema = z.object({
  id: z.string(),
  hubspot_id: z.string(),
  email: z.string().nullable(),
  first_name: z.string().nullable(),
  last_name: z.string().nullable(),
  phone: z.string().nullable(),
  company: z.string().nullable(),
  data: z.record(z.string(), z.string().nullable()),
  created_at: z.string(),
  updated_at: z.string(),
  /** HubSpot's updatedAt in ms. */
  version: z.number().int().positive(),
  prospect_id: z.string().nullable(),
  last_sync: z.string(),
  sync_status: z.enum(["synced", "pending", "error"]),
});

/** GET /v1/hubspot/contacts; `next_after` (the last id) pages on, null at the end. */
export const hubspotContactsPageSchema = z.object({
  items: z.array(hubspotContactSchema),
  next_after: z.string().nullable(),
});

/** GET /v1/hubspot/sessions; `next_before` (the last created_at) pages on, null at the end. */
export const hubspotSessionsPageSchema = z.object({
  items: z.array(hubspotSessionSchema),
  next_before: z.string().nullable(),
});

/** GET /v1/hubspot/sync/status: the connection shown (never a token), the latest session, the incremental high-water mark. */
export const hubspotSyncStatusSchema = z.object({
  connection: hubspotConnectionSchema.nullable(),
  session: hubspotSessionSchema.nullable(),
  high_water_mark: z.string().nullable(),
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
