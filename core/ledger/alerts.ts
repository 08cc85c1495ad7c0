import type { OpenedGroup } from "./record-failures";

/** Where "a new failure group opened" goes. */
export type AlertSink = (groups: OpenedGroup[]) => Promise<void>;

/**
 * POSTs `{ type: "failure_groups.opened", at, groups }` to the operator's webhook (Slack relay,
 * PagerDuty, …). With a secret, the body is signed: `x-sds-signature: <hex HMAC-SHA256>`.
 * Best effort with a 5 s timeout: an alert must never hold up or fail recording the failures.
 */
export function webhookAlerts(url: string, secret?: string, fetchImpl: typeof fetch = fetch): AlertSink {
  return async (groups) => {
    if (!groups.length) return;
    const body = JSON.stringify({ type: "failure_groups.opened", at: new Date().toISOString(), groups });
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (secret) headers["x-sds-signature"] = await hmacHex(secret, body);
    try {
      const response = await fetchImpl(url, { method: "POST", headers, body, signal: AbortSignal.timeout(5000) });
      if (!response.ok)
        console.error(
          JSON.stringify({ msg: "alert webhook refused", status: response.status, groups: groups.map((g) => g.id) }),
        );
    } catch (error) {
      console.error(
        JSON.stringify({ msg: "alert webhook failed", error: String(error), groups: groups.map((g) => g.id) }),
      );
    }
  };
}

export const noAlerts: AlertSink = async () => {};

export async function hmacHex(secret: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body)));
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
}
