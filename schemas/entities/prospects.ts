import { z } from "zod";
import { defineEntity } from "../define-entity";
import { nullableText, text, utcTimestamp, uuid, version } from "../fields";
import type { StateMachine } from "../state-machine";

export const PROSPECT_STAGES = [
  "new",
  "enriching",
  "enriched",
  "ready",
  "contacted",
  "engaged",
  "meeting",
  "won",
  "lost",
  "archived",
] as const;
export type ProspectStage = (typeof PROSPECT_STAGES)[number];

/** Seed 000's stage machine; enforced by a trigger in Supabase, the authoritative store. */
export const prospectStageMachine: StateMachine<ProspectStage> = {
  field: "stage",
  transitions: {
    new: ["enriching", "enriched", "archived"],
    enriching: ["enriched", "new", "archived"],
    enriched: ["ready", "contacted", "archived"],
    ready: ["contacted", "archived"],
    contacted: ["engaged", "meeting", "lost", "archived"],
    engaged: ["meeting", "lost", "archived"],
    meeting: ["won", "lost", "archived"],
    won: ["archived"],
    lost: ["contacted", "archived"], // re-engage
    archived: ["new"], // unarchive
  },
};

export const prospects = defineEntity({
  name: "prospects",
  table: "prospects",
  authority: "supabase",
  replica: "d1",
  stateMachine: prospectStageMachine,
  row: z.object({
    id: uuid(),
    name: text().min(1),
    city: nullableText(),
    country: nullableText(),
    contact_name: nullableText(),
    contact_email: nullableText(),
    contact_title: nullableText(),
    phone: nullableText(),
    website: nullableText(),
    linkedin_url: nullableText(),
    stage: z.enum(PROSPECT_STAGES),
    tier: nullableText(),
    score: z.number().int(),
    lead_source: nullableText(),
    email_bounced: z.boolean(),
    archived: z.boolean(),
    created_at: utcTimestamp(),
    updated_at: utcTimestamp(),
    version: version(),
  }),
});
