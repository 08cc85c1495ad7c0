import type { Job } from "../../../../schemas/operator-api";
import { EXIT } from "../exit-codes";
import { table } from "../format";
import type { Command } from "../context";
import { listJobsPath } from "../requests";
import { jobRow } from "../rows";

export const jobs: Command = {
  synopsis: "jobs [--status S] [--limit N]",
  summary: "replay jobs, newest first",
  options: ["status", "limit"],
  async run(ctx) {
    const data = await ctx.api<{ items: Job[] }>("GET", listJobsPath(ctx.options));
    ctx.print(data, () => table(data.items.map(jobRow)));
    return EXIT.ok;
  },
};
