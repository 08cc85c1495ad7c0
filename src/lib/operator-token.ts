/**
 * Per-operator tokens: `sds_op_` + 32 random bytes in base64url (43 characters). The prefix makes
 * a leaked token recognisable to secret scanners and lets the worker tell one from the shared
 * admin token without a lookup.
 */
export const OPERATOR_TOKEN_PREFIX = "sds_op_";
const TOKEN_BYTES = 32;
const SHAPE = /^sds_op_[A-Za-z0-9_-]{43}$/;

const encoder = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function newOperatorToken(): string {
  return OPERATOR_TOKEN_PREFIX + base64url(crypto.getRandomValues(new Uint8Array(TOKEN_BYTES)));
}

export function looksLikeOperatorToken(value: string): boolean {
  return SHAPE.test(value);
}

/**
 * Lowercase hex SHA-256 of the whole token: what D1 stores and what a request is looked up by.
 * Looking up by this hash (an index probe, not a constant-time compare) is safe: any timing the
 * probe leaks is about the hash of the caller's own guess, and learning how close SHA-256 of a
 * guess comes to a stored hash helps nobody find a token (that would be a preimage attack on
 * SHA-256), while the token itself has 256 bits to guess.
 */
export async function hashOperatorToken(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(token)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
