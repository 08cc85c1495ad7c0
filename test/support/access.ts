import type { Jwk, Jwks } from "../../src/lib/access-jwt";

/*
 * Cloudflare Access is outside our control, so its key set is the one thing played in tests: a
 * real RSA key pair signs real RS256 JWTs, and the worker verifies them with WebCrypto as in
 * production.
 */

export const TEAM = "sds-test.cloudflareaccess.com";
export const AUD = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";
export const ACCESS = { CF_ACCESS_TEAM_DOMAIN: TEAM, CF_ACCESS_AUD: AUD };

const encoder = new TextEncoder();
const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
/** One base64url JSON part of a JWT. */
export const part = (value: unknown) => b64url(encoder.encode(JSON.stringify(value)));

export async function keyPair(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
}

/** A signing key and the key set Access would publish for it (key id k1). */
export async function accessKeySet(): Promise<{ signer: CryptoKeyPair; jwks: Jwks }> {
  const signer = await keyPair();
  const publicJwk = (await crypto.subtle.exportKey("jwk", signer.publicKey)) as Jwk;
  return {
    signer,
    jwks: { keys: [{ kty: "RSA", n: publicJwk.n, e: publicJwk.e, kid: "k1", alg: "RS256", use: "sig" }] },
  };
}

/** An Access JWT as Cloudflare issues it, signed with `key`; `claims` and `header` override the defaults. */
export async function signAccessJwt(
  key: CryptoKey,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const head = part({ alg: "RS256", kid: "k1", typ: "JWT", ...header });
  const body = part({
    aud: [AUD],
    email: "mallory@example.com",
    exp: now + 600,
    iat: now,
    nbf: now,
    iss: `https://${TEAM}`,
    sub: "2f5c…",
    type: "app",
    ...claims,
  });
  const signature = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, encoder.encode(`${head}.${body}`));
  return `${head}.${body}.${b64url(new Uint8Array(signature))}`;
}
