import { z } from "zod";
import { defineEntity } from "../define-entity";
import { nullableText, text, utcTimestamp, uuid, version } from "../fields";
import type { StateMachine } from "../state-machine";

export const EMAIL_STATUSES = [
  "pending",
  "sent",
  "delivered",
  "opened",
  "clicked",
  "replied",
  "bounced",
  "failed",
] as const;
export type EmailStatus = (typeof EMAIL_STATUSES)[number];

/** Seed 000's status machine; enforced by the email API and a trigger in D1, the authoritative store. */
export const emailStatusMachine: StateMachine<EmailStatus> = {
  field: "status",
  transitions: {
    pending: ["sent", "failed"],
    sent: ["delivered", "bounced", "opened"],
    delivered: ["opened", "clicked", "replied", "bounced"],
    opened: ["clicked", "replied"],
    clicked: ["replied"],
    replied: [],
    bounced: [],
    failed: ["pending"], // retry
  },
};

/** The timestamp column each status stamps. A row in a status without its timestamp is impossible. */
export const EMAIL_STATUS_TIMESTAMP: Record<Exclude<EmailStatus, "pending">, EmailTimestampColumn> = {
  sent: "sent_at",
  delivered: "delivered_at",
  opened: "opened_at",
  clicked: "clicked_at",
  replied: "replied_at",
  bounced: "bounced_at",
  failed: "failed_at",
};
export type EmailTimestampColumn =
  "sent_at" | "delivered_at" | "opened_at" | "clicked_at" | "replied_at" | "bounced_at" | "failed_at";

/** Every status past `sent` implies the email was sent, so it needs `sent_at` as well. */
export function impossibleEmailState(
  row: { status: EmailStatus } & Partial<Record<EmailTimestampColumn, string | null>>,
): string | null {
  if (row.status === "pending") return null;
  const own = EMAIL_STATUS_TIMESTAMP[row.status];
  if (!row[own]) return `status "${row.status}" requires ${own}`;
  if (row.status !== "failed" && !row.sent_at) return `status "${row.status}" requires sent_at`;
  return null;
}

const timestamps = {
  sent_at: utcTimestamp().nullable(),
  delivered_at: utcTimestamp().nullable(),
  opened_at: utcTimestamp().nullable(),
  clicked_at: utcTimestamp().nullable(),
  replied_at: utcTimestamp().nullable(),
  bounced_at: utcTimestamp().nullable(),
  failed_at: utcTimestamp().nullable(),
};

export const emails = defineEntity({
  name: "emails",
  table: "emails",
  authority: "d1",
  replica: "supabase",
  stateMachine: emailStatusMachine,
  row: z
    .object({
      id: uuid(),
      prospect_id: uuid(),
      campaign_id: uuid().nullable(),
      mailbox_id: uuid().nullable(),
      direction: z.enum(["outbound", "inbound"]),
      to_email: text().min(3),
      from_email: text().min(3),
      subject: text(),
      body: text(),
      message_id: nullableText(),
      status: z.enum(EMAIL_STATUSES),
      ...timestamps,
      error: nullableText(),
      created_at: utcTimestamp(),
      updated_at: utcTimestamp(),
      version: version(),
    })
    .superRefine((row, ctx) => {
      const problem = impossibleEmailState(row);
      if (problem) ctx.addIssue({ code: "custom", path: ["status"], message: `impossible state: ${problem}` });
    }),
});
