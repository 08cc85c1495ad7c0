import type { z } from "zod";
import type { taskDetailSchema } from "../../../../schemas/operator-api";
import { requireArg } from "../args";
import { EXIT } from "../exit-codes";
import { keyValues, table } from "../format";
import type { Command } from "../context";

export const show: Command = {
  synopsis: "show <task-id>",
  summary: "a failed task: summary, its event, every failure and replay",
  options: [],
  async run(ctx) {
    const id = requireArg("show", ctx.args, 0, "a task id");
    const detail = await ctx.api<z.infer<typeof taskDetailSchema>>(
      "GET",
      `/v1/admin/failed-tasks/${encodeURIComponent(id)}`,
    );
    const { event, ...task } = detail.task;
    ctx.print(detail, () =>
      [
        keyValues(task),
        "",
        "event:",
        JSON.stringify(event, null, 2),
        "",
        "history:",
        table(
          detail.history.map((h) => ({
            at: h.at,
            kind: h.kind,
            by: h.actor,
            job: h.job_id,
            mode: h.mode,
            error_code: h.error_code,
            error_message: h.error_message,
          })),
        ),
      ].join("\n"),
    );
    return EXIT.ok;
  },
};
