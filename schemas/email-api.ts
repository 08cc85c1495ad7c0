import { z } from "zod";
import { EMAIL_STATUSES } from "./entities/emails";
import { text, utcTimestamp, uuid } from "./fields";

const email = text().regex(/^[^\s@]+@[^\s@]+$/, "must be an email address");

/** POST /v1/emails: the sending worker records a send (or a queued/failed attempt). */
export const recordSendSchema = z.object({
  id: uuid().optional(),
  prospect_id: uuid(),
  campaign_id: uuid().nullable().optional(),
  mailbox_id: uuid().nullable().optional(),
  direction: z.enum(["outbound", "inbound"]).default("outbound"),
  to_email: email,
  from_email: email,
  subject: text().max(998),
  body: text().max(100_000),
  message_id: text().min(1).max(998).nullable().optional(),
  status: z.enum(["pending", "sent", "failed"]).default("sent"),
  sent_at: utcTimestamp().nullable().optional(),
  failed_at: utcTimestamp().nullable().optional(),
  error: text().max(2000).nullable().optional(),
});
export type RecordSendInput = z.infer<typeof recordSendSchema>;

/** PATCH /v1/emails/:id: a status change with optimistic locking. */
export const changeStatusSchema = z.object({
  status: z.enum(EMAIL_STATUSES),
  expectedVersion: z.number().int().positive(),
  /** When the status was reached (defaults to now); stamps the status's timestamp column. */
  at: utcTimestamp().optional(),
  error: text().max(2000).nullable().optional(),
});
export type ChangeStatusInput = z.infer<typeof changeStatusSchema>;
