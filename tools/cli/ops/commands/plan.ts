import type { Plan } from "../../../../schemas/operator-api";
import { EXIT } from "../exit-codes";
import { countTable, keyValues, shellQuote } from "../format";
import type { Command } from "../context";
import { planRequest } from "../requests";
import { TASK_FILTER_OPTIONS } from "./failed";

/** What to type next: the plan is frozen, so this replays exactly what was just counted. */
export function executeCommand(plan: Plan, reason: string | undefined): string {
  return `npm run ops -- replay --plan ${plan.id} --reason ${shellQuote(reason ?? "<why>")}`;
}

export function planSummary(plan: Plan, reason: string | undefined): string {
  return [
    keyValues({
      plan: plan.id,
      queue: plan.queue,
      mode: plan.mode,
      override: plan.override ? "yes (quarantined tasks included)" : "no",
      "tasks selected": plan.total,
      "to send": plan.to_send,
      "already superseded": `${plan.superseded} (the replica holds the same or a newer version: resolved without sending)`,
      "would be skipped": `${plan.skipped}${plan.skipped ? " (e.g. refresh mode and the source no longer holds the row)" : ""}`,
      "quarantined excluded": `${plan.quarantined_excluded}${plan.quarantined_excluded && !plan.override ? " (add --override to include them)" : ""}`,
      "still replaying, excluded": `${plan.replaying_excluded}${plan.replaying_excluded ? " (their outcome is not known yet: wait, or plan with --status replaying)" : ""}`,
      expires: plan.expires_at,
    }),
    "",
    "by entity:",
    countTable(plan.by_entity, "entity"),
    "",
    "by error:",
    countTable(plan.by_error, "error_code"),
    "",
    "execute it (replays exactly these tasks):",
    `  ${executeCommand(plan, reason)}`,
  ].join("\n");
}

export const plan: Command = {
  synopsis: "plan [failed's filters] [--ids a,b,c] [--mode original|refresh] [--override] [--reason R]",
  summary: "dry run: freeze a selection of failed tasks and count what a replay would do",
  options: [...TASK_FILTER_OPTIONS, "ids", "mode", "override", "reason"],
  async run(ctx) {
    const body = planRequest(ctx.options, ctx.now());
    const data = await ctx.api<{ plan: Plan }>("POST", "/v1/admin/replay-plans", body);
    ctx.print(data, () => planSummary(data.plan, body.reason));
    return EXIT.ok;
  },
};
