import type { AuthKind } from "../../../schemas/operator-api";
import type { Env } from "../../env";

/** The console's sign-in lasts a working day; then the operator signs in again. */
export const SESSION_SECONDS = 8 * 60 * 60;
export const SESSION_COOKIE = "sds_console";

/** What the signed cookie carries: who and how they signed in, never the token itself. */
export interface ConsoleSession {
  operator: string;
  /** admin-token: the name was typed in (claimed); operator-token and access-jwt prove it. */
  auth: AuthKind;
  /** The operator token signed in with: checked again on every request, so revoking it ends the session. */
  tokenId?: string;
  /** Per-session CSRF token, echoed by every console form in a hidden field. */
  csrf: string;
  /** Unix seconds. */
  expires: number;
}

const encoder = new TextEncoder();

function base64url(bytes: ArrayBuffer | Uint8Array): string {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array {
  const s = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(s, (ch) => ch.charCodeAt(0));
}

/**
 * CONSOLE_SESSION_SECRET, or else a key derived from ADMIN_TOKEN (a distinct purpose string, so the
 * key is never the token itself). Neither set: the console cannot sign sessions and is closed.
 */
async function sessionKey(env: Env): Promise<CryptoKey | null> {
  const material = env.CONSOLE_SESSION_SECRET
    ? encoder.encode(env.CONSOLE_SESSION_SECRET)
    : env.ADMIN_TOKEN
      ? await crypto.subtle.digest("SHA-256", encoder.encode(`sds-console-session:${env.ADMIN_TOKEN}`))
      : null;
  if (!material) return null;
  return crypto.subtle.importKey("raw", material, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

export function consoleConfigured(env: Env): boolean {
  return Boolean(env.CONSOLE_SESSION_SECRET || env.ADMIN_TOKEN);
}

export function newSession(
  operator: string,
  auth: ConsoleSession["auth"],
  now: Date,
  tokenId?: string,
): ConsoleSession {
  return {
    operator,
    auth,
    ...(tokenId ? { tokenId } : {}),
    csrf: base64url(crypto.getRandomValues(new Uint8Array(32))),
    expires: Math.floor(now.getTime() / 1000) + SESSION_SECONDS,
  };
}

/** `<payload>.<HMAC-SHA256 of payload>`, both base64url. */
export async function sealSession(env: Env, session: ConsoleSession): Promise<string> {
  const key = await sessionKey(env);
  if (!key) throw new Error("the console has no session key: set CONSOLE_SESSION_SECRET or ADMIN_TOKEN");
  const payload = base64url(encoder.encode(JSON.stringify(session)));
  return `${payload}.${base64url(await crypto.subtle.sign("HMAC", key, encoder.encode(payload)))}`;
}

/** The session a cookie value proves, or null: unsigned, forged, malformed and expired alike. */
export async function openSession(env: Env, value: string | undefined, now: Date): Promise<ConsoleSession | null> {
  const key = await sessionKey(env);
  const [payload, signature, extra] = value?.split(".") ?? [];
  if (!key || !payload || !signature || extra !== undefined) return null;
  try {
    // crypto.subtle.verify compares in constant time.
    if (!(await crypto.subtle.verify("HMAC", key, fromBase64url(signature), encoder.encode(payload)))) return null;
    const session = JSON.parse(new TextDecoder().decode(fromBase64url(payload))) as ConsoleSession;
    return typeof session.expires === "number" && session.expires * 1000 > now.getTime() ? session : null;
  } catch {
    return null; // bad base64 or JSON: treated like a forged cookie
  }
}
