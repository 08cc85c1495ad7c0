import { resolveRegressionsBody } from "../../../../schemas/operator-api";
import { UsageError } from "../usage-error";
import { EXIT } from "../exit-codes";
import type { Command } from "../context";
import { requireReason, validate } from "../requests";

type Resolved = { entity: string; restamped: Array<{ id: string; version: number }>; unchanged: string[] };

export const resolveRegression: Command = {
  synopsis: "resolve-regression --entity E [--ids a,b] --reason R",
  summary:
    "after a point-in-time restore: re-stamp the source rows above the replica so their changes flow again (audited)",
  options: ["entity", "ids", "reason"],
  async run(ctx) {
    if (!ctx.options.entity) throw new UsageError("resolve-regression needs --entity");
    const reason = requireReason("resolve-regression", ctx.options);
    const ids = ctx.options.ids
      ?.split(",")
      .map((id) => id.trim())
      .filter(Boolean);
    const body = validate(resolveRegressionsBody, { entity: ctx.options.entity, reason, ...(ids ? { ids } : {}) });
    const { resolved } = await ctx.api<{ resolved: Resolved }>("POST", "/v1/admin/regressions/resolve", body);
    ctx.print(
      resolved,
      () =>
        `${resolved.entity}: ${resolved.restamped.length} source row(s) re-stamped above the replica (their change is on its way), ` +
        `${resolved.unchanged.length} needed nothing`,
    );
    return EXIT.ok;
  },
};
