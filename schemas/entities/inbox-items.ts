import { z } from "zod";
import { defineEntity } from "../define-entity";
import { nullableText, text, utcTimestamp, uuid, version } from "../fields";

/** A received message in a monitored mailbox (replies, bounces, out-of-office). */
export const inboxItems = defineEntity({
  name: "inbox_items",
  table: "inbox_items",
  authority: "supabase",
  replica: "d1",
  row: z.object({
    id: uuid(),
    mailbox_id: uuid(),
    prospect_id: uuid().nullable(),
    email_id: uuid().nullable(),
    message_id: nullableText(),
    from_email: text().min(3),
    subject: nullableText(),
    snippet: nullableText(),
    category: nullableText(),
    is_read: z.boolean(),
    received_at: utcTimestamp(),
    created_at: utcTimestamp(),
    updated_at: utcTimestamp(),
    version: version(),
  }),
});
