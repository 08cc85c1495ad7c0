import type { FailureGroup } from "../../../../schemas/operator-api";
import { EXIT } from "../exit-codes";
import { table, withMore } from "../format";
import type { Command } from "../context";
import { listGroupsPath } from "../requests";
import { groupRow } from "../rows";

export const groups: Command = {
  synopsis: "groups [--status S] [--entity E] [--queue Q] [--limit N] [--cursor C]",
  summary: "failure groups (same entity, queue, error and message) with counts, newest failure first",
  options: ["status", "entity", "queue", "limit", "cursor"],
  async run(ctx) {
    const page = await ctx.api<{ items: FailureGroup[]; nextCursor: string | null }>(
      "GET",
      listGroupsPath(ctx.options),
    );
    ctx.print(page, () => withMore(table(page.items.map(groupRow)), page.nextCursor));
    return EXIT.ok;
  },
};
