import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signatureV3 } from "../../../producers/hubspot/webhook-signature";
import type { WebhookEvent } from "./portal";

/**
 * Posts a batch of webhook events the way HubSpot does: a JSON array, signed with v3
 * (HMAC-SHA256 of method + URI + body + timestamp, base64, keyed with the app's client secret).
 * `tamper` lets a test send what an attacker or a replay would.
 */
export async function sendWebhook(opts: {
  url: string;
  events: WebhookEvent[];
  clientSecret: string;
  nowMs: number;
  fetch?: typeof fetch;
  tamper?: { timestampMs?: number; signature?: string; body?: string; omitSignature?: boolean };
}): Promise<Response> {
  const body = JSON.stringify(opts.events);
  const timestamp = String(opts.tamper?.timestampMs ?? opts.nowMs);
  const signature = opts.tamper?.signature ?? (await signatureV3(opts.clientSecret, "POST", opts.url, body, timestamp));
  const headers: Record<string, string> = { "content-type": "application/json", [TIMESTAMP_HEADER]: timestamp };
  if (!opts.tamper?.omitSignature) headers[SIGNATURE_HEADER] = signature;
  return (opts.fetch ?? fetch)(opts.url, { method: "POST", headers, body: opts.tamper?.body ?? body });
}
