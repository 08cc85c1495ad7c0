import type { FailedTask } from "../../../../schemas/operator-api";
import { EXIT } from "../exit-codes";
import { table, withMore } from "../format";
import type { Command } from "../context";
import { listTasksPath } from "../requests";
import { taskRow } from "../rows";

export const TASK_FILTER_OPTIONS = [
  "status",
  "entity",
  "queue",
  "code",
  "group",
  "job",
  "since",
  "until",
  "min-attempts",
  "max-attempts",
] as const;

export const failed: Command = {
  synopsis:
    "failed [--status S] [--entity E] [--queue Q] [--code C] [--group G] [--job J] [--since T] [--until T] [--min-attempts N] [--max-attempts N] [--limit N] [--cursor C]",
  summary: "list failed tasks (newest failure first)",
  options: [...TASK_FILTER_OPTIONS, "limit", "cursor"],
  async run(ctx) {
    const page = await ctx.api<{ items: FailedTask[]; nextCursor: string | null }>(
      "GET",
      listTasksPath(ctx.options, ctx.now()),
    );
    ctx.print(page, () => withMore(table(page.items.map(taskRow)), page.nextCursor));
    return EXIT.ok;
  },
};
