import {
  EMAIL_STATUS_TIMESTAMP,
  emailStatusMachine,
  emails,
  impossibleEmailState,
  type EmailStatus,
} from "../schemas/entities/emails";
import { canTransition } from "../schemas/state-machine";
import { columnsOf } from "../schemas/define-entity";
import type { ChangeStatusInput, RecordSendInput } from "../schemas/email-api";
import { ConflictError, NotFoundError, ValidationError } from "../core/errors";
import { utcNow } from "../core/utc";
import { classifyD1Error, d1TriggerCode, d1UniqueViolation } from "../core/stores/d1-errors";
import { makeEvent, MAX_TRACE_ID_CHARS } from "../schemas/event";
import { OUTBOX_COLUMNS, publishOutbox, type OutboxRow } from "./outbox";
import { assertEventFits, type QueueBindings } from "./publish";

export type EmailRow = Record<string, unknown> & { id: string; status: EmailStatus; version: number };
export interface EmailWriteResult {
  email: EmailRow;
  /** False if the queue was unavailable: the outbox sweep republishes it, nothing is lost. */
  published: boolean;
}
type Deps = { db: D1Database; queues: QueueBindings };

const COLUMNS = columnsOf(emails);
const OUTBOX_FOR_VERSION = `SELECT ${OUTBOX_COLUMNS} FROM sync_outbox WHERE entity = 'emails' AND row_id = ?1 AND version = ?2`;

/**
 * Records a send in D1, the authoritative store for emails. The row and its outbox event commit in
 * one D1 batch (the outbox row is written by a trigger), then the event is published.
 */
export async function recordEmailSend(deps: Deps, input: RecordSendInput, traceId: string): Promise<EmailWriteResult> {
  const now = utcNow();
  const row: Record<string, unknown> = {
    id: input.id ?? crypto.randomUUID(),
    prospect_id: input.prospect_id,
    campaign_id: input.campaign_id ?? null,
    mailbox_id: input.mailbox_id ?? null,
    direction: input.direction,
    to_email: input.to_email,
    from_email: input.from_email,
    subject: input.subject,
    body: input.body,
    message_id: input.message_id ?? null,
    status: input.status,
    sent_at: input.sent_at ?? null,
    delivered_at: null,
    opened_at: null,
    clicked_at: null,
    replied_at: null,
    bounced_at: null,
    failed_at: input.failed_at ?? null,
    error: input.error ?? null,
    created_at: now,
    updated_at: now,
    version: 1,
  };
  const problem = impossibleEmailState(row as Parameters<typeof impossibleEmailState>[0]);
  if (problem) throw new ValidationError("IMPOSSIBLE_STATE", problem, undefined, 422);
  assertEmailEventFits(row as EmailRow);

  const insert = deps.db
    .prepare(`INSERT INTO emails (${COLUMNS.join(", ")}) VALUES (${COLUMNS.map((_, i) => `?${i + 1}`).join(", ")})`)
    .bind(...COLUMNS.map((c) => row[c]));
  let outbox: OutboxRow[];
  try {
    const [, read] = await deps.db.batch([insert, deps.db.prepare(OUTBOX_FOR_VERSION).bind(row.id, 1)]);
    outbox = read!.results as OutboxRow[];
  } catch (error) {
    // D1 errors carry no code: d1-errors.ts reads the broken constraint from the message.
    const unique = d1UniqueViolation(error);
    if (unique?.includes("emails.id")) throw new ConflictError("ALREADY_EXISTS", `email ${row.id} already exists`);
    if (unique?.includes("emails.message_id")) {
      throw new ConflictError("DUPLICATE_MESSAGE_ID", `another email already has message_id ${row.message_id}`);
    }
    throw classifyD1Error(error);
  }
  const outcome = await publishOutbox(deps, outbox, "email-api", traceId);
  return { email: row as EmailRow, published: outcome.published === outbox.length };
}

/**
 * Moves an email along the status machine with optimistic locking: the update applies only if the
 * row still has `expectedVersion`, so two writers cannot both win.
 */
export async function changeEmailStatus(
  deps: Deps,
  id: string,
  input: ChangeStatusInput,
  traceId: string,
): Promise<EmailWriteResult> {
  const current = await getEmail(deps.db, id);
  if (!current) throw new NotFoundError(`email ${id} does not exist`);
  if (current.version !== input.expectedVersion) {
    throw new ConflictError(
      "VERSION_CONFLICT",
      `email ${id} is at version ${current.version}, not ${input.expectedVersion}`,
      {
        currentVersion: current.version,
      },
    );
  }
  if (!canTransition(emailStatusMachine, current.status, input.status)) {
    throw new ConflictError("INVALID_TRANSITION", `email status cannot go from ${current.status} to ${input.status}`, {
      from: current.status,
      to: input.status,
      allowed: emailStatusMachine.transitions[current.status],
    });
  }
  const at = input.at ?? utcNow();
  const stampColumn = input.status === "pending" ? null : EMAIL_STATUS_TIMESTAMP[input.status];
  const next: EmailRow = {
    ...current,
    status: input.status,
    ...(stampColumn ? { [stampColumn]: at } : {}),
    ...(input.error !== undefined ? { error: input.error } : {}),
    updated_at: utcNow(),
    version: current.version + 1,
  };
  const problem = impossibleEmailState(next as Parameters<typeof impossibleEmailState>[0]);
  if (problem) throw new ValidationError("IMPOSSIBLE_STATE", problem, undefined, 422);
  assertEmailEventFits(next);

  const update = deps.db
    .prepare(
      `UPDATE emails SET status = ?1, ${stampColumn ? `${stampColumn} = ?2, ` : ""}error = ?3, updated_at = ?4, version = version + 1 ` +
        `WHERE id = ?5 AND version = ?6`,
    )
    .bind(next.status, at, next.error ?? null, next.updated_at, id, input.expectedVersion);
  let changed: number;
  let outbox: OutboxRow[];
  try {
    const [written, read] = await deps.db.batch([update, deps.db.prepare(OUTBOX_FOR_VERSION).bind(id, next.version)]);
    changed = written!.meta.changes;
    outbox = read!.results as OutboxRow[];
  } catch (error) {
    if (d1TriggerCode(error) === "INVALID_TRANSITION") {
      throw new ConflictError(
        "INVALID_TRANSITION",
        `email status cannot go from its current status to ${input.status}`,
      );
    }
    throw classifyD1Error(error);
  }
  if (changed === 0) {
    // Another writer moved the row between our read and our write.
    const latest = await getEmail(deps.db, id);
    throw new ConflictError("VERSION_CONFLICT", `email ${id} changed concurrently`, {
      currentVersion: latest?.version,
    });
  }
  const outcome = await publishOutbox(deps, outbox, "email-api", traceId);
  return { email: next, published: outcome.published === outbox.length };
}

/**
 * Refuses (413 EVENT_TOO_LARGE) a write whose event could not be put on a queue, before anything
 * is written: once the row and its outbox entry commit, the event can only end in failed_tasks and
 * the replica would never see the row. Measured in UTF-8 bytes of the event as the outbox publishes
 * it (D1's row image is this row), with the longest trace id an event may carry, so every later
 * publication of the same entry (the sweep's, under another trace id) fits as well.
 */
function assertEmailEventFits(row: EmailRow): void {
  assertEventFits(
    makeEvent({
      entity: "emails",
      op: "upsert",
      key: { id: row.id },
      version: row.version,
      row,
      source: "email-api",
      trace_id: "x".repeat(MAX_TRACE_ID_CHARS),
    }),
  );
}

export async function getEmail(db: D1Database, id: string): Promise<EmailRow | null> {
  return db
    .prepare(`SELECT ${COLUMNS.join(", ")} FROM emails WHERE id = ?1`)
    .bind(id)
    .first<EmailRow>();
}
