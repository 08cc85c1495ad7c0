import type { Job } from "../../../../schemas/operator-api";
import { requireArg } from "../args";
import { EXIT } from "../exit-codes";
import type { Command } from "../context";
import { jobSummary } from "../job-view";
import { reasonBody } from "../requests";

export const cancel: Command = {
  synopsis: "cancel <job-id> --reason R",
  summary: "stop a replay job (what was already replayed stays replayed)",
  options: ["reason"],
  async run(ctx) {
    const id = requireArg("cancel", ctx.args, 0, "a job id");
    const body = reasonBody("cancel", ctx.options);
    const data = await ctx.api<{ job: Job }>("POST", `/v1/admin/replay-jobs/${encodeURIComponent(id)}/cancel`, body);
    ctx.print(data, () => jobSummary(data.job));
    return EXIT.ok;
  },
};
