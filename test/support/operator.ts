import { env } from "cloudflare:test";
import { makeEvent, type SyncEvent } from "../../schemas/event";
import { failureRow, insertFailedTasks } from "../../core/ledger/record-failures";
import { utcNow } from "../../core/utc";
import { call, SECRETS } from "./helpers";

/** The operator API as the CLI calls it: admin token and a named operator. */
export function op(method: string, path: string, body?: unknown, operator: string | null = "alice@ops") {
  return call(method, path, { token: SECRETS.admin, body, headers: operator ? { "x-operator": operator } : {} });
}

/** A prospects event (the D1 replica) at a version, shaped like a committed Postgres row. */
export function prospectEvent(
  id = crypto.randomUUID(),
  version = 1,
  overrides: Record<string, unknown> = {},
): SyncEvent {
  // Written now, like a row that has just failed: replay asks the source about row images older
  // than the replica's tombstone retention (src/services/replay-decide.ts).
  const at = new Date().toISOString();
  const row = {
    id,
    name: `Hotel ${id.slice(0, 8)}`,
    city: "Zürich",
    country: "CH",
    contact_name: null,
    contact_email: null,
    contact_title: null,
    phone: null,
    website: null,
    linkedin_url: null,
    stage: "new",
    tier: null,
    score: 10,
    lead_source: null,
    email_bounced: false,
    archived: false,
    created_at: at,
    updated_at: at,
    version,
    ...overrides,
  };
  return makeEvent({
    entity: "prospects",
    op: "upsert",
    key: { id },
    version,
    row,
    source: "supabase-change-log",
    trace_id: "test",
  });
}

/** Records failures exactly as the dead-letter consumer does, many per statement. */
export async function seedFailures(
  events: unknown[],
  failure: { queue?: string; error_code?: string; error_message?: string; attempts?: number } = {},
): Promise<void> {
  for (let i = 0; i < events.length; i += 500) {
    const rows = events.slice(i, i + 500).map((event, j) =>
      failureRow({
        queue: failure.queue ?? "to-d1",
        event,
        error_code: failure.error_code ?? "RETRIES_EXHAUSTED",
        error_message: failure.error_message ?? "delivery failed on every attempt",
        retryable: 1,
        attempts: failure.attempts ?? 101,
        last_message_id: `seed-${i + j}-${crypto.randomUUID()}`,
        failed_at: utcNow(),
      }),
    );
    await insertFailedTasks(env.DB, rows);
  }
}

export async function taskOfEvent(eventId: string) {
  return env.DB.prepare("SELECT * FROM failed_tasks WHERE event_id = ?1").bind(eventId).first<Record<string, any>>();
}
