import type { Actor } from "../../services/audit";
import type { ConsoleSession } from "./session";

/**
 * The audit Actor of a console action, as operatorOf (src/http/operator.ts) builds it for the API:
 * an operator token's session proves the name (its token id recorded); with the shared admin token
 * the name is the one typed at sign-in, recorded as claimed.
 */
export function actorOfSession(session: ConsoleSession): Actor {
  return { name: session.operator, auth: session.auth, tokenId: session.tokenId ?? null };
}
