import { AuthError } from "../../core/errors";

/**
 * HubSpot's v3 request signature (developers.hubspot.com, "Validating requests", and the changelog
 * "Introducing version 3 of Webhook signatures"): base64 of HMAC-SHA256, keyed with the app's
 * client secret, over `method + URI + raw body + X-HubSpot-Request-Timestamp`; a timestamp older
 * than 5 minutes is refused. The timestamp is milliseconds since the epoch.
 */
export const SIGNATURE_HEADER = "X-HubSpot-Signature-v3";
export const TIMESTAMP_HEADER = "X-HubSpot-Request-Timestamp";
export const MAX_SIGNATURE_AGE_MS = 5 * 60 * 1000;

export interface SignedRequest {
  method: string;
  /** The full URI HubSpot posted to (scheme, host, path, query), exactly as configured in the app. */
  uri: string;
  /** The raw body, before any JSON parsing: re-serialising changes bytes and breaks the HMAC. */
  body: string;
  signature: string | null;
  timestamp: string | null;
}

/** The v3 signature of a request: also what the local stand-in sends. */
export async function signatureV3(secret: string, method: string, uri: string, body: string, timestamp: string) {
  const key = await hmacKey(secret, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, sourceBytes(method, uri, body, timestamp));
  return btoa(String.fromCharCode(...new Uint8Array(mac)));
}

/**
 * Throws an AuthError (401, not retryable) unless the request carries a valid, fresh v3 signature.
 * A timestamp too far in the future is refused like a stale one: accepting it would stretch the
 * replay window past 5 minutes. The comparison is crypto.subtle.verify, which compares in
 * constant time, so response timing does not leak how much of a forged signature was right.
 */
export async function verifySignatureV3(secret: string, request: SignedRequest, nowMs: number): Promise<void> {
  const { signature, timestamp } = request;
  if (!signature || !timestamp) {
    throw new AuthError(`${SIGNATURE_HEADER} and ${TIMESTAMP_HEADER} are required`, "HUBSPOT_SIGNATURE_MISSING");
  }
  const sentAt = /^\d{1,16}$/.test(timestamp) ? Number(timestamp) : NaN;
  if (!Number.isFinite(sentAt) || Math.abs(nowMs - sentAt) > MAX_SIGNATURE_AGE_MS) {
    throw new AuthError("the request timestamp is missing, malformed or over 5 minutes off", "HUBSPOT_SIGNATURE_STALE");
  }
  const given = base64Bytes(signature);
  const key = await hmacKey(secret, ["verify"]);
  const valid =
    given !== null &&
    (await crypto.subtle.verify("HMAC", key, given, sourceBytes(request.method, request.uri, request.body, timestamp)));
  if (!valid) throw new AuthError("the HubSpot signature does not match the request", "HUBSPOT_SIGNATURE_INVALID");
}

function sourceBytes(method: string, uri: string, body: string, timestamp: string): Uint8Array<ArrayBuffer> {
  // Copied into a fresh ArrayBuffer: TextEncoder's result is typed over any buffer, WebCrypto wants ArrayBuffer.
  return new Uint8Array(new TextEncoder().encode(`${method.toUpperCase()}${uri}${body}${timestamp}`));
}

function hmacKey(secret: string, usages: Array<"sign" | "verify">): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    usages,
  );
}

function base64Bytes(text: string): Uint8Array<ArrayBuffer> | null {
  try {
    return Uint8Array.from(atob(text.trim()), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}
