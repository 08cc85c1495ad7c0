import type { CreatePlanBody } from "../../../../schemas/operator-api";
import { createPlanBody } from "../../../../schemas/operator-api";
import { field, parseForm } from "../form-input";

/** What the selection form holds, as typed (re-shown as typed when refused). */
export interface PlanFormValues {
  group?: string;
  entity?: string;
  queue?: string;
  error_code?: string;
  status?: string;
  mode?: string;
  override?: boolean;
  /** Optional for a plan (the API's too): recorded on the plan's audit line when given. */
  reason?: string;
}

export const PLAN_FILTER_FIELDS = ["group", "entity", "queue", "error_code", "status"] as const;

export function planFormValues(form: Record<string, unknown>): PlanFormValues {
  const values: PlanFormValues = {
    mode: field(form, "mode"),
    override: form.override === "on",
    reason: field(form, "reason"),
  };
  for (const name of PLAN_FILTER_FIELDS) values[name] = field(form, name);
  return values;
}

/** The plan request the CLI would send for this selection, checked with the API's createPlanBody. */
export function planBodyOf(values: PlanFormValues): CreatePlanBody {
  const filter: Record<string, string> = {};
  for (const name of PLAN_FILTER_FIELDS) if (values[name]) filter[name] = values[name]!;
  return parseForm(createPlanBody, { filter, mode: values.mode, override: values.override, reason: values.reason });
}
