import { Hono } from "hono";
import { eventsHead } from "../../../core/hubspot/sync-events";
import { eventCursor, hubspotEventsQuery } from "../../../schemas/hubspot-api";
import { openEventStream } from "../../services/hubspot-event-stream";
import { adminAuth } from "../admin-auth";
import type { AppContext, AppEnv } from "../context";
import { parseRequest, readQuery } from "../read-json";

/**
 * The HubSpot sync's progress events as server-sent events (text/event-stream), for the API (here,
 * operator auth) and the console (/console/hubspot/events, its session): the same handler.
 * Where to start: Last-Event-ID (EventSource's reconnect), else `?after=`, else the newest event
 * (only what happens from now on). A bad cursor is refused (INVALID_REQUEST) before any stream.
 */
export async function hubspotEventStream(c: AppContext): Promise<Response> {
  const { after } = readQuery(c, hubspotEventsQuery);
  const lastEventId = c.req.header("last-event-id")?.trim();
  const { supabase, settings } = c.get("deps");
  const rpc = supabase();
  const from = lastEventId ? parseRequest(eventCursor, lastEventId) : (after ?? (await eventsHead(rpc)));
  const stream = await openEventStream(
    { rpc },
    { after: from, seconds: settings.HUBSPOT_EVENT_STREAM_SECONDS, signal: c.req.raw.signal },
  );
  return c.body(stream, 200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    // Proxies that buffer (nginx and kin) would hold events back until the stream ends.
    "x-accel-buffering": "no",
  });
}

export const hubspotEventRoutes = new Hono<AppEnv>().use("*", adminAuth()).get("/", hubspotEventStream);
