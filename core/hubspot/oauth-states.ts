import { TransientError, ValidationError } from "../errors";

/**
 * The OAuth `state` of a HubSpot connect: what ties HubSpot's redirect back to a connect an
 * operator started here. It is `<id>.<signature>`: 128 random bits, signed with HMAC-SHA256 under
 * a key derived from the app's client secret, so a forged or altered state is refused before any
 * lookup; and the id's row in D1 (migration d1/0013) makes it single use and short lived. The row
 * also says who started the connect, because the callback itself carries no credential.
 */
export interface OAuthStateOwner {
  actor: string;
  auth: string;
  tokenId: string | null;
}

export interface ConsumedState extends OAuthStateOwner {
  id: string;
  redirectUri: string;
}

/** Long enough to sign in to HubSpot and pick a portal; short enough that a leaked link is dead soon. */
export const STATE_TTL_MS = 10 * 60 * 1000;
/** Expired rows are deleted this long after expiry, by the next connect. */
const PRUNE_AFTER_MS = 24 * 60 * 60 * 1000;

const encoder = new TextEncoder();
const ID = /^[A-Za-z0-9_-]{22}$/;

async function stateKey(clientSecret: string | undefined): Promise<CryptoKey> {
  if (!clientSecret) throw new TransientError("CONFIG_MISSING", "HUBSPOT_CLIENT_SECRET is not set");
  // A purpose string keeps this key apart from any other use of the secret (webhook signatures).
  const material = await crypto.subtle.digest("SHA-256", encoder.encode(`sds-hubspot-oauth-state:${clientSecret}`));
  return crypto.subtle.importKey("raw", material, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

/** Records a new state and returns the value to send to HubSpot. Also prunes long-expired rows. */
export async function issueState(
  db: D1Database,
  clientSecret: string | undefined,
  input: OAuthStateOwner & { redirectUri: string; now: Date },
): Promise<string> {
  const key = await stateKey(clientSecret);
  const id = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const signature = base64url(await crypto.subtle.sign("HMAC", key, encoder.encode(id)));
  const now = input.now.getTime();
  await db.batch([
    db.prepare("DELETE FROM hubspot_oauth_states WHERE expires_at < ?1").bind(iso(now - PRUNE_AFTER_MS)),
    db
      .prepare(
        `INSERT INTO hubspot_oauth_states (id, created_at, expires_at, redirect_uri, actor, auth, token_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)`,
      )
      .bind(id, iso(now), iso(now + STATE_TTL_MS), input.redirectUri, input.actor, input.auth, input.tokenId),
  ]);
  return `${id}.${signature}`;
}

/**
 * Checks the signature, then consumes the state with one conditional UPDATE (not yet consumed, not
 * expired): of two callbacks racing with one state, exactly one gets the row. Refusals, each with
 * nothing changed: HUBSPOT_STATE_INVALID (missing, malformed, bad signature, unknown),
 * HUBSPOT_STATE_USED, HUBSPOT_STATE_EXPIRED.
 */
export async function consumeState(
  db: D1Database,
  clientSecret: string | undefined,
  state: string | undefined,
  now: Date,
): Promise<ConsumedState> {
  const key = await stateKey(clientSecret);
  const [id, signature, extra] = (state ?? "").split(".");
  if (!id || !signature || extra !== undefined || !ID.test(id)) throw invalid("is missing or malformed");
  let mac: Uint8Array;
  try {
    mac = fromBase64url(signature);
  } catch {
    throw invalid("is malformed");
  }
  // crypto.subtle.verify compares in constant time.
  if (!(await crypto.subtle.verify("HMAC", key, mac, encoder.encode(id)))) throw invalid("has a bad signature");

  // UPDATE ... SET consumed_at = now WHERE id = ? AND consumed_at IS NULL AND expires_at > now RETURNING *
  const row = await db
    .prepare(
      `UPDATE hubspot_oauth_states SET consumed_at = ?2
        WHERE id = ?1 AND consumed_at IS NULL AND expires_at > ?2
        RETURNING id, redirect_uri, actor, auth, token_id`,
    )
    .bind(id, iso(now.getTime()))
    .first<{ id: string; redirect_uri: string; actor: string; auth: string; token_id: string | null }>();
  if (row) {
    return { id: row.id, redirectUri: row.redirect_uri, actor: row.actor, auth: row.auth, tokenId: row.token_id };
  }
  const why = await db
    .prepare("SELECT consumed_at, expires_at FROM hubspot_oauth_states WHERE id = ?1")
    .bind(id)
    .first<{ consumed_at: string | null; expires_at: string }>();
  if (why?.consumed_at) {
    throw new ValidationError(
      "HUBSPOT_STATE_USED",
      "this HubSpot authorization was already completed (its state is single use): start a new connect",
    );
  }
  if (why) {
    throw new ValidationError(
      "HUBSPOT_STATE_EXPIRED",
      `this HubSpot authorization took longer than ${STATE_TTL_MS / 60_000} minutes: start a new connect`,
    );
  }
  throw invalid("is unknown here");
}

function invalid(what: string) {
  return new ValidationError("HUBSPOT_STATE_INVALID", `the OAuth state ${what}: start the connect from this worker`);
}

const iso = (ms: number) => new Date(ms).toISOString();

function base64url(bytes: ArrayBuffer | Uint8Array): string {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return btoa(String.fromCharCode(...b))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array {
  return Uint8Array.from(atob(text.replaceAll("-", "+").replaceAll("_", "/")), (c) => c.charCodeAt(0));
}
