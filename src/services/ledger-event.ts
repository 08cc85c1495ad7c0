import { MAX_EVENT_BYTES } from "../../producers/publish";
import type { SyncEvent } from "../../schemas/event";
import { utf8Bytes } from "../lib/json-chunks";

/**
 * An event as failed_tasks keeps it, for the failures backfill and reconciliation record. A row
 * image larger than a queue message (or than D1 takes in one value) can be neither stored nor
 * replayed as it is, so it is left out and the task says so; replay such a task in refresh mode,
 * which reads the row from the source again.
 */
export function ledgerEvent(event: SyncEvent): unknown {
  const bytes = utf8Bytes(JSON.stringify(event));
  if (bytes <= MAX_EVENT_BYTES) return event;
  return { ...event, row: null, row_omitted: `row image of ${bytes} bytes left out (over ${MAX_EVENT_BYTES}); replay with mode refresh` };
}
