import { Hono } from "hono";
import { hubspotWebhookBatchSchema } from "../../../schemas/hubspot-webhook";
import { ConflictError, TransientError, ValidationError } from "../../../core/errors";
import { formatIssues } from "../../../core/zod-issues";
import { contactsOfEvents } from "../../../producers/hubspot/webhook-contacts";
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifySignatureV3 } from "../../../producers/hubspot/webhook-signature";
import { contactEvents, publishContactEvents } from "../../../producers/hubspot-contacts";
import { hubspotFromEnv } from "../../wiring/hubspot";
import type { AppEnv } from "../context";
import { ok } from "../envelope";
import { readBodyBytes } from "../read-json";

/** HubSpot sends at most 100 events per request; each is a few hundred bytes. */
const HUBSPOT_WEBHOOK_BODY_LIMIT = 256 * 1024;

/**
 * POST /webhooks/hubspot: HubSpot's contact events, v3-signed with the app's client secret over
 * method + the URI HubSpot posted to + the raw body + the timestamp. The URI is the request's own
 * URL, which is the public one behind Cloudflare. Nothing is read or queued before the signature
 * and its age are checked. The events only name contacts: their current state is read back (batch
 * read) and queued like a sync page, so order and duplicates do not matter.
 */
export const hubspotWebhookRoutes = new Hono<AppEnv>().post("/", async (c) => {
  const secret = c.env.HUBSPOT_CLIENT_SECRET;
  if (!secret) throw new TransientError("CONFIG_MISSING", "HUBSPOT_CLIENT_SECRET is not set");
  const body = new TextDecoder().decode(await readBodyBytes(c, HUBSPOT_WEBHOOK_BODY_LIMIT));
  await verifySignatureV3(
    secret,
    {
      method: c.req.method,
      uri: c.req.url,
      body,
      signature: c.req.header(SIGNATURE_HEADER) ?? null,
      timestamp: c.req.header(TIMESTAMP_HEADER) ?? null,
    },
    Date.now(),
  );
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new ValidationError("MALFORMED_JSON", `request body is not JSON: ${(error as Error).message}`);
  }
  const parsed = hubspotWebhookBatchSchema.safeParse(json);
  if (!parsed.success) throw new ValidationError("INVALID_REQUEST", formatIssues(parsed.error));
  const deps = c.get("deps");
  const hubspot = await hubspotFromEnv(c.env, { rpc: deps.supabase(), db: deps.db });
  // Not connected: the events are refused; the first full sync after connecting reads every contact.
  if (!hubspot) throw new ConflictError("HUBSPOT_NOT_CONNECTED", "no HubSpot portal is connected");
  const { contacts, unknown } = await contactsOfEvents(hubspot.client, parsed.data);
  const made = await contactEvents(contacts, "hubspot-webhook", { traceId: c.get("requestId") });
  const sent = await publishContactEvents(deps.queues, made);
  return ok(c, { events: parsed.data.length, contacts: contacts.length, unknown, ...sent }, 202);
});
