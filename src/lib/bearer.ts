import { AuthError } from "./errors";

const encoder = new TextEncoder();

/**
 * Constant-time check of `Authorization: Bearer <secret>`. Both sides are hashed first so the
 * comparison runs over equal lengths and leaks neither content nor length of the secret.
 */
export async function requireBearer(header: string | null | undefined, secret: string | undefined): Promise<void> {
  if (!secret) throw new AuthError("this endpoint is disabled: its secret is not configured");
  const match = /^Bearer\s+(.+)$/i.exec(header ?? "");
  if (!match) throw new AuthError();
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(match[1]!.trim())),
    crypto.subtle.digest("SHA-256", encoder.encode(secret)),
  ]);
  if (!crypto.subtle.timingSafeEqual(a, b)) throw new AuthError();
}
