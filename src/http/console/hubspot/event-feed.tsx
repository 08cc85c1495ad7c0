/** @jsxImportSource hono/jsx */
import { summarise } from "../../../../core/hubspot/sync-events";
import type { RecordedSyncEvent } from "../../../../schemas/hubspot/sync-event";
import { UtcTime } from "../utc-time";

/** The stream the page follows with EventSource (console session; the same handler as GET /v1/hubspot/events). */
export const EVENTS_URL = "/console/hubspot/events";
/** The feed as a fragment: what the page polls instead when EventSource keeps failing. */
export const EVENTS_FRAGMENT_URL = "/console/hubspot/live/events";
/** Events shown: the page starts with the newest this many and keeps at most as many. */
export const FEED_SIZE = 30;

/**
 * The live event feed, newest first. console.js opens EventSource on data-events after
 * data-events-after and puts each event on top in the same shape as EventItem (its words are the
 * stream's `summary`, made by the same summarise); after repeated errors it polls
 * data-events-fallback every data-live-seconds instead.
 */
export function EventFeed(props: { head: number; items: RecordedSyncEvent[] }) {
  return (
    <section class="panel" aria-labelledby="hubspot-events">
      <h3 id="hubspot-events">Live events</h3>
      <p class="muted">
        Syncs starting, their progress, completing or failing, and connection changes, as they are recorded (newest
        first).
      </p>
      {/* Not role="status": it changes with every event, which a screen reader would read out each time. */}
      <p class="muted event-feed-status" data-events-status>
        Connecting to the event stream…
      </p>
      <ol
        class="event-feed"
        data-events={EVENTS_URL}
        data-events-after={String(props.head)}
        data-events-fallback={EVENTS_FRAGMENT_URL}
        data-events-max={String(FEED_SIZE)}
        data-live-seconds="5"
      >
        <EventItems items={props.items} />
      </ol>
    </section>
  );
}

export function EventItems(props: { items: RecordedSyncEvent[] }) {
  if (props.items.length === 0) return <li class="event muted">No event recorded yet.</li>;
  return (
    <>
      {props.items.map((e) => (
        <li class="event" data-event={e.event} data-seq={String(e.seq)}>
          <UtcTime at={e.at} /> <span class="event-name">{e.event}</span>{" "}
          <span class="event-summary">{summarise(e)}</span>
        </li>
      ))}
    </>
  );
}
