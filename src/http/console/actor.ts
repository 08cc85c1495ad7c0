import type { Actor } from "../../services/audit";
import type { ConsoleSession } from "./session";

/**
 * The audit trail's actor for the signed-in operator, as src/http/operator.ts builds it for the
 * API: an operator token or Cloudflare Access proved the name; with the shared admin token it was
 * typed in at sign-in, so it is only claimed (auth admin-token).
 */
export function consoleActor(session: ConsoleSession): Actor {
  return { name: session.operator, auth: session.auth, tokenId: session.tokenId ?? null };
}
