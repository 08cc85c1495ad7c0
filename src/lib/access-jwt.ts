import { AuthError, TransientError } from "../../core/errors";

/**
 * Cloudflare Access puts a signed JWT in `Cf-Access-Jwt-Assertion` on every request it lets
 * through. Verifying it (RS256 against the team's published keys, issuer, audience, lifetime)
 * proves who the person is without any secret of ours. Only the header is read, not the
 * CF_Authorization cookie; but Access derives the header from that cookie, so changes made with it
 * must be application/json (adminAuth: no cross-site request can send that without a preflight).
 */

export interface Jwk extends JsonWebKey {
  kid?: string;
}
export interface Jwks {
  keys: Jwk[];
}
/** The team's JSON Web Key Set; `fresh` asks for a fetch past any cache (a key rotated in). */
export type AccessKeySource = (teamDomain: string, opts: { fresh: boolean }) => Promise<Jwks>;

export interface AccessIdentity {
  /** email for a person, the client id (common_name) for an Access service token. */
  name: string;
  subject: string;
}

/** Clocks differ a little between Cloudflare's edge and us. */
const LEEWAY_S = 60;
const KEYS_TTL_MS = 10 * 60_000;

const decoder = new TextDecoder();

function fromBase64url(part: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(part)) throw invalid("not base64url");
  const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
}

function json(part: string): Record<string, unknown> {
  try {
    const value = JSON.parse(decoder.decode(fromBase64url(part)));
    if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through: reported below
  }
  throw invalid("not a JWT");
}

function invalid(why: string): AuthError {
  return new AuthError(`Cloudflare Access JWT refused: ${why}`, "ACCESS_JWT_INVALID");
}

/** `team.cloudflareaccess.com` or `https://team.cloudflareaccess.com/` → `team.cloudflareaccess.com`. */
export function teamHost(teamDomain: string): string {
  return teamDomain
    .trim()
    .replace(/^https?:\/\//, "")
    .replace(/\/+$/, "");
}

/**
 * Verifies an Access JWT and returns who it names, or 401 ACCESS_JWT_INVALID saying why. Only
 * RS256 is accepted (never `none`, never HMAC with a public key as the secret).
 */
export async function verifyAccessJwt(
  jwt: string,
  config: { teamDomain: string; audience: string },
  keys: AccessKeySource,
  now: Date,
): Promise<AccessIdentity> {
  const parts = jwt.split(".");
  if (parts.length !== 3) throw invalid("not a JWT");
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = json(headerPart);
  if (header.alg !== "RS256") throw invalid(`algorithm ${String(header.alg)} (only RS256)`);
  if (typeof header.kid !== "string") throw invalid("no key id");
  const payload = json(payloadPart);

  const host = teamHost(config.teamDomain);
  const jwk = await keyFor(host, header.kid, keys);
  const key = await crypto.subtle.importKey(
    "jwk",
    { ...jwk, alg: "RS256", ext: true },
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const signed = new TextEncoder().encode(`${headerPart}.${payloadPart}`);
  if (!(await crypto.subtle.verify("RSASSA-PKCS1-v1_5", key, fromBase64url(signaturePart), signed)))
    throw invalid("bad signature");

  // The claims count only once the signature is known to be Access's.
  if (payload.iss !== `https://${host}`) throw invalid(`issuer ${String(payload.iss)} is not https://${host}`);
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (!audiences.includes(config.audience)) throw invalid("audience is not this application's (CF_ACCESS_AUD)");
  const t = Math.floor(now.getTime() / 1000);
  if (typeof payload.exp !== "number" || payload.exp + LEEWAY_S <= t) throw invalid("expired");
  if (typeof payload.nbf === "number" && payload.nbf - LEEWAY_S > t) throw invalid("not valid yet");
  const name = typeof payload.email === "string" && payload.email ? payload.email : payload.common_name;
  if (typeof name !== "string" || !name) throw invalid("names nobody (no email, no common_name)");
  return { name, subject: typeof payload.sub === "string" ? payload.sub : name };
}

async function keyFor(host: string, kid: string, keys: AccessKeySource): Promise<Jwk> {
  const find = (set: Jwks) => set.keys.find((k) => k.kid === kid && k.kty === "RSA");
  const cached = find(await keys(host, { fresh: false }));
  if (cached) return cached;
  // Access rotates its signing keys: an unknown kid may be a new key the cache has not seen.
  const fresh = find(await keys(host, { fresh: true }));
  if (!fresh) throw invalid(`unknown signing key ${kid}`);
  return fresh;
}

/**
 * The keys from `https://<team>/cdn-cgi/access/certs`, cached per isolate for ten minutes. A
 * forced refresh is allowed at most once a minute, so a stream of JWTs with made-up key ids cannot
 * turn into a stream of fetches.
 */
export function accessKeysFromFetch(fetchImpl: typeof fetch, clock: () => number = Date.now): AccessKeySource {
  const cache = new Map<string, { keys: Jwks; at: number }>();
  return async (host, { fresh }) => {
    const hit = cache.get(host);
    const age = hit ? clock() - hit.at : Infinity;
    if (hit && (fresh ? age < 60_000 : age < KEYS_TTL_MS)) return hit.keys;
    let response: Response;
    try {
      response = await fetchImpl(`https://${host}/cdn-cgi/access/certs`, { headers: { accept: "application/json" } });
    } catch (error) {
      throw new TransientError(
        "ACCESS_UNAVAILABLE",
        `cannot fetch the Cloudflare Access keys of ${host}: ${(error as Error).message}`,
        error,
      );
    }
    const body = (await response.json().catch(() => null)) as Jwks | null;
    if (!response.ok || !Array.isArray(body?.keys))
      throw new TransientError(
        "ACCESS_UNAVAILABLE",
        `the Cloudflare Access keys of ${host} answered ${response.status}`,
      );
    cache.set(host, { keys: body, at: clock() });
    return body;
  };
}
