import { AuthError } from "../../core/errors";

const encoder = new TextEncoder();

/** The credential of `Authorization: Bearer <credential>`, or 401. */
export function bearerOf(header: string | null | undefined): string {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? "");
  if (!match) throw new AuthError();
  return match[1]!.trim();
}

/**
 * Constant-time comparison of a presented credential with a secret. Both sides are hashed first
 * so the comparison runs over equal lengths and leaks neither content nor length of the secret.
 */
export async function matchesSecret(presented: string, secret: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(presented)),
    crypto.subtle.digest("SHA-256", encoder.encode(secret)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/** `Authorization: Bearer <secret>`, or 401. */
export async function requireBearer(header: string | null | undefined, secret: string | undefined): Promise<void> {
  if (!secret) throw new AuthError("this endpoint is disabled: its secret is not configured");
  if (!(await matchesSecret(bearerOf(header), secret))) throw new AuthError();
}
