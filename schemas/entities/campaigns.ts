import { z } from "zod";
import { defineEntity } from "../define-entity";
import { nullableText, text, utcTimestamp, uuid, version } from "../fields";

export const CAMPAIGN_STATUSES = ["draft", "active", "paused", "completed", "archived"] as const;

export const campaigns = defineEntity({
  name: "campaigns",
  table: "campaigns",
  authority: "supabase",
  replica: "d1",
  row: z.object({
    id: uuid(),
    name: text().min(1),
    status: z.enum(CAMPAIGN_STATUSES),
    mailbox_id: uuid().nullable(),
    subject_template: nullableText(),
    body_template: nullableText(),
    daily_limit: z.number().int().nonnegative(),
    timezone: text().min(1),
    started_at: utcTimestamp().nullable(),
    created_at: utcTimestamp(),
    updated_at: utcTimestamp(),
    version: version(),
  }),
});
