import { describe, expect, it } from "vitest";
import { signatureV3, verifySignatureV3 } from "../producers/hubspot/webhook-signature";

// The verifier as the worker runs it: in workerd, WebCrypto only. The vector was computed outside
// this code (Python's hmac: base64(HMAC-SHA256(secret, method + URI + body + timestamp))).
const URI = "https://sync.example.com/webhooks/hubspot?portal=62515";
const BODY = '[{"eventId":1,"objectId":7}]';
const SENT_AT = 1767614400000;
const VECTOR = "o0WtvX4khpf5Xio6iUb8aghV4sGQEc1xKXrcz4K4kJU=";

const request = (over: Partial<Parameters<typeof verifySignatureV3>[1]> = {}) => ({
  method: "POST",
  uri: URI,
  body: BODY,
  signature: VECTOR,
  timestamp: String(SENT_AT),
  ...over,
});

describe("HubSpot v3 webhook signature in workerd", () => {
  it("signs as HubSpot does (an independently computed vector)", async () => {
    expect(await signatureV3("app-secret", "POST", URI, BODY, String(SENT_AT))).toBe(VECTOR);
  });

  it("accepts the vector up to 5 minutes after it was sent, and not after", async () => {
    await expect(verifySignatureV3("app-secret", request(), SENT_AT + 300_000)).resolves.toBeUndefined();
    await expect(verifySignatureV3("app-secret", request(), SENT_AT + 300_001)).rejects.toMatchObject({
      code: "HUBSPOT_SIGNATURE_STALE",
      status: 401,
    });
  });

  it("refuses any change to what was signed, another secret, and a missing header", async () => {
    const now = SENT_AT + 1000;
    const refused = (secret: string, over: Parameters<typeof request>[0]) =>
      verifySignatureV3(secret, request(over), now).then(
        () => "accepted",
        (e: { code: string }) => e.code,
      );
    expect(await refused("app-secret", { body: BODY.replace("7", "8") })).toBe("HUBSPOT_SIGNATURE_INVALID");
    expect(await refused("app-secret", { uri: URI.replace("62515", "62516") })).toBe("HUBSPOT_SIGNATURE_INVALID");
    expect(await refused("app-secret", { method: "PUT" })).toBe("HUBSPOT_SIGNATURE_INVALID");
    expect(await refused("app-secret", { timestamp: String(SENT_AT + 1) })).toBe("HUBSPOT_SIGNATURE_INVALID");
    expect(await refused("other-secret", {})).toBe("HUBSPOT_SIGNATURE_INVALID");
    expect(await refused("app-secret", { signature: VECTOR.slice(0, -4) })).toBe("HUBSPOT_SIGNATURE_INVALID");
    expect(await refused("app-secret", { signature: "not base64!" })).toBe("HUBSPOT_SIGNATURE_INVALID");
    expect(await refused("app-secret", { signature: null })).toBe("HUBSPOT_SIGNATURE_MISSING");
    expect(await refused("app-secret", { timestamp: "yesterday" })).toBe("HUBSPOT_SIGNATURE_STALE");
    expect(await refused("app-secret", {})).toBe("accepted");
  });
});
