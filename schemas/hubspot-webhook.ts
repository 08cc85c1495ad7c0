import { z } from "zod";

/**
 * What HubSpot POSTs to a webhook target: a JSON array of events (webhooks API v3). Each names
 * the object that changed; for `*.propertyChange` also the property and its new value. Fields we
 * do not use are kept (HubSpot adds some, e.g. `sourceId`, `isSensitive`).
 */
export const hubspotWebhookEventSchema = z.looseObject({
  eventId: z.number(),
  subscriptionId: z.number(),
  portalId: z.number(),
  occurredAt: z.number(),
  subscriptionType: z.string(),
  attemptNumber: z.number(),
  objectId: z.number(),
  changeSource: z.string().optional(),
  propertyName: z.string().optional(),
  propertyValue: z.string().optional(),
});

export const hubspotWebhookBatchSchema = z.array(hubspotWebhookEventSchema);

export type HubSpotWebhookEvent = z.infer<typeof hubspotWebhookEventSchema>;
