import { EXIT } from "../exit-codes";
import { table } from "../format";
import type { Command } from "../context";

export const reconcile: Command = {
  synopsis: "reconcile [--entity E] [--dry-run] [--reason R]",
  summary: "compare source and replica, repair what differs",
  options: ["entity", "dry-run", "reason"],
  async run(ctx) {
    const { runs } = await ctx.api<{ runs: Array<Record<string, unknown>> }>("POST", "/v1/admin/reconcile", {
      entity: ctx.options.entity,
      repair: !ctx.options["dry-run"],
      reason: ctx.options.reason,
    });
    ctx.print(
      runs,
      () =>
        table(
          runs.map(
            ({ entity, status, rows_checked, missing, extra, altered, repaired, skipped, invalid, regressed }) => ({
              entity,
              status,
              rows_checked,
              missing,
              extra,
              altered,
              repaired,
              skipped,
              invalid,
              regressed,
            }),
          ),
        ) + (runs.some((r) => Number(r.regressed) > 0) ? "\n\nregressed rows: npm run ops -- regressions" : ""),
    );
    return runs.some((r) => r.status === "failed") ? EXIT.error : EXIT.ok;
  },
};
