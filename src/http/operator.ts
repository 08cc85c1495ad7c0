import { operatorName } from "../../schemas/operator-api";
import { ValidationError } from "../lib/errors";
import type { AppContext } from "./context";

/**
 * Who is acting. The admin token is one shared secret, so it cannot say who used it: every
 * change names its operator in `x-operator`, and the audit trail records that name.
 */
export function operatorOf(c: AppContext): string {
  const name = c.req.header("x-operator");
  if (!name) throw new ValidationError("OPERATOR_REQUIRED", "name yourself in the x-operator header (the CLI sends $SDS_OPERATOR or user@host)");
  const parsed = operatorName.safeParse(name);
  if (!parsed.success) throw new ValidationError("OPERATOR_REQUIRED", `x-operator ${parsed.error.issues[0]!.message}`);
  return parsed.data;
}
