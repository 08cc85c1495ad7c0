import { z } from "zod";
import { defineEntity } from "../define-entity";
import { nullableText, text, utcTimestamp, uuid, version } from "../fields";

export const MAILBOX_STATUSES = ["active", "warming", "paused", "disabled"] as const;

export const mailboxes = defineEntity({
  name: "mailboxes",
  table: "mailboxes",
  authority: "supabase",
  replica: "d1",
  row: z.object({
    id: uuid(),
    email: text().min(3),
    display_name: nullableText(),
    provider: text().min(1),
    status: z.enum(MAILBOX_STATUSES),
    daily_limit: z.number().int().nonnegative(),
    health_score: z.number().int().min(0).max(100),
    created_at: utcTimestamp(),
    updated_at: utcTimestamp(),
    version: version(),
  }),
});
