import { operatorName } from "../../schemas/operator-api";
import { ValidationError } from "../../core/errors";
import type { Actor } from "../services/audit";
import type { AppContext } from "./context";

/**
 * Who is acting, and how we know. With an operator token the token's row names the operator, with
 * a Cloudflare Access JWT its email (adminAuth already refused a disagreeing x-operator). The admin token is one shared secret, so
 * it cannot say who used it: the caller names itself in `x-operator`, and the audit line records
 * the name as claimed (auth admin-token), not proven.
 */
export function operatorOf(c: AppContext): Actor {
  const principal = c.get("principal");
  if (principal?.auth === "operator-token")
    return { name: principal.operator, auth: "operator-token", tokenId: principal.tokenId };
  if (principal?.auth === "access-jwt") return { name: principal.operator, auth: "access-jwt", tokenId: null };
  const name = c.req.header("x-operator");
  if (!name)
    throw new ValidationError(
      "OPERATOR_REQUIRED",
      "name yourself in the x-operator header (the CLI sends $SDS_OPERATOR or user@host), or use your own operator token",
    );
  const parsed = operatorName.safeParse(name);
  if (!parsed.success) throw new ValidationError("OPERATOR_REQUIRED", `x-operator ${parsed.error.issues[0]!.message}`);
  return { name: parsed.data, auth: "admin-token", tokenId: null };
}
