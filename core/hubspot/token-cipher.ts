import { TransientError, ValidationError } from "../errors";

/**
 * HubSpot OAuth tokens at rest: AES-GCM with a 256-bit key (WebCrypto), a fresh 96-bit iv per
 * seal, and associated data naming what the token is (portal and field), so a ciphertext copied
 * onto another connection or into the other token's column does not open.
 *
 * Keys come from the secret HUBSPOT_TOKEN_KEYS: one or more `id:base64key` entries separated by
 * commas or whitespace, newest first, e.g. `k2:…,k1:…`. Sealing uses the newest; opening uses the
 * key the row names. Rotation: put a new key first, run rotateTokenKeys (core/hubspot/connections.ts)
 * until it reports nothing left under an older key, then drop the old key from the secret.
 */
export interface TokenKeyring {
  newest: string;
  keys: ReadonlyMap<string, CryptoKey>;
}

/** What the database holds for one token: never the token itself. */
export interface SealedToken {
  keyId: string;
  /** base64 of the 12-byte iv. */
  iv: string;
  /** base64 of the ciphertext followed by its 16-byte authentication tag. */
  ciphertext: string;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const IV_BYTES = 12;

/** Reads HUBSPOT_TOKEN_KEYS. A missing or unusable secret is configuration: work waits for the fix. */
export async function parseTokenKeys(secret: string | undefined): Promise<TokenKeyring> {
  if (!secret?.trim()) throw new TransientError("CONFIG_MISSING", "HUBSPOT_TOKEN_KEYS is not set");
  const keys = new Map<string, CryptoKey>();
  const ids: string[] = [];
  for (const entry of secret.trim().split(/[\s,]+/)) {
    const colon = entry.indexOf(":");
    const id = entry.slice(0, colon);
    // Never quote the entry: it holds key material.
    if (colon < 1 || !KEY_ID.test(id))
      throw invalidKeys(`entry ${ids.length + 1} is not id:base64key (id: 1-32 of A-Z a-z 0-9 _ -)`);
    if (keys.has(id)) throw invalidKeys(`key id ${id} appears twice`);
    let raw: Uint8Array<ArrayBuffer>;
    try {
      raw = fromBase64(entry.slice(colon + 1));
    } catch {
      throw invalidKeys(`key ${id} is not base64`);
    }
    if (raw.length !== 32) throw invalidKeys(`key ${id} is ${raw.length} bytes; AES-256 needs 32`);
    keys.set(id, await crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]));
    ids.push(id);
  }
  return { newest: ids[0]!, keys };
}

/** Encrypts under the newest key. `context` names the token (it must be given again to open it). */
export async function sealToken(ring: TokenKeyring, plaintext: string, context: string): Promise<SealedToken> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ciphertext = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(context) },
    ring.keys.get(ring.newest)!,
    new TextEncoder().encode(plaintext),
  );
  return { keyId: ring.newest, iv: toBase64(iv), ciphertext: toBase64(new Uint8Array(ciphertext)) };
}

/** Decrypts with the key the sealed token names; refuses, with a stable code, what does not open. */
export async function openToken(ring: TokenKeyring, sealed: SealedToken, context: string): Promise<string> {
  const key = ring.keys.get(sealed.keyId);
  if (!key)
    // Not the caller's input, but as permanent: the catalogue answers 500, retryable false.
    throw new ValidationError(
      "TOKEN_KEY_UNKNOWN",
      `the token was sealed with key ${sealed.keyId}, which HUBSPOT_TOKEN_KEYS no longer holds (was it removed before rotation finished?)`,
    );
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: fromBase64(sealed.iv), additionalData: new TextEncoder().encode(context) },
      key,
      fromBase64(sealed.ciphertext),
    );
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(plain);
  } catch {
    // GCM authenticates: a wrong key under the right id, an altered ciphertext or iv, or a token
    // moved to another connection or column all fail here, and nothing is returned.
    throw new ValidationError(
      "TOKEN_DECRYPT_FAILED",
      `the token sealed with key ${sealed.keyId} does not open: altered, moved, or that key id now holds other key material`,
    );
  }
}

function invalidKeys(problem: string): TransientError {
  return new TransientError("TOKEN_KEYS_INVALID", `HUBSPOT_TOKEN_KEYS is unusable: ${problem}`);
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new Error("not base64");
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
