import { GROUP_ACTIONS, type FailedTask, type FailureGroup, type GroupAction } from "../../../../schemas/operator-api";
import { requireArg } from "../args";
import { EXIT } from "../exit-codes";
import { keyValues, table } from "../format";
import type { Command, Context } from "../context";
import { reasonBody } from "../requests";
import { taskRow } from "../rows";
import { UsageError } from "../usage-error";

const ACTIONS = Object.keys(GROUP_ACTIONS) as GroupAction[];

async function showGroup(ctx: Context, id: string): Promise<number> {
  const data = await ctx.api<{ group: FailureGroup; examples: FailedTask[] }>(
    "GET",
    `/v1/admin/failure-groups/${encodeURIComponent(id)}`,
  );
  ctx.print(data, () => [keyValues(data.group), "", "example tasks:", table(data.examples.map(taskRow))].join("\n"));
  return EXIT.ok;
}

export const group: Command = {
  synopsis: `group <group-id> [${ACTIONS.join("|")} --reason R]`,
  summary: "show a failure group and example tasks, or change its status",
  options: ["reason"],
  async run(ctx) {
    const id = requireArg("group", ctx.args, 0, "a group id");
    const action = ctx.args[1];
    if (action === undefined) {
      if (ctx.options.reason !== undefined) throw new UsageError(`--reason goes with an action: ${ACTIONS.join(", ")}`);
      return showGroup(ctx, id);
    }
    if (!ACTIONS.includes(action as GroupAction))
      throw new UsageError(`unknown group action "${action}": use ${ACTIONS.join(", ")}`);
    const body = reasonBody(`group ${action}`, ctx.options);
    const data = await ctx.api<{ group: FailureGroup }>(
      "POST",
      `/v1/admin/failure-groups/${encodeURIComponent(id)}/${action}`,
      body,
    );
    const g = data.group;
    ctx.print(data, () => `group ${g.id} is now ${g.status} (${g.open_tasks} open task(s), ${g.failures} failure(s))`);
    return EXIT.ok;
  },
};
