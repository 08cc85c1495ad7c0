import type { FailureGroup } from "../../../../schemas/operator-api";
import { EXIT } from "../exit-codes";
import { table } from "../format";
import type { Command } from "../context";
import { listGroupsPath } from "../requests";
import { groupRow } from "../rows";

export const groups: Command = {
  synopsis: "groups [--status S] [--entity E] [--queue Q] [--limit N]",
  summary: "failure groups (same entity, queue, error and message) with counts",
  options: ["status", "entity", "queue", "limit"],
  async run(ctx) {
    const data = await ctx.api<{ items: FailureGroup[] }>("GET", listGroupsPath(ctx.options));
    ctx.print(data, () => table(data.items.map(groupRow)));
    return EXIT.ok;
  },
};
