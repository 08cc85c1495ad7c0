import { requireArg } from "../args";
import { EXIT } from "../exit-codes";
import { progressBar } from "../format";
import type { Command } from "../context";

type Backfill = { status: string; copied: number; applied: number; failed: number; total_estimate: number | null };

export const backfill: Command = {
  synopsis: "backfill <entity> [--restart] [--reason R]",
  summary: "full resync of a replica, with progress (resumes if interrupted)",
  options: ["restart", "reason"],
  async run(ctx) {
    const entity = requireArg("backfill", ctx.args, 0, "an entity");
    // Each call copies one page and stores the cursor, so stopping between calls loses nothing.
    let restart = ctx.options.restart ?? false;
    for (;;) {
      const { backfill: b } = await ctx.api<{ backfill: Backfill }>(
        "POST",
        `/v1/admin/backfill/${encodeURIComponent(entity)}`,
        { restart, reason: ctx.options.reason },
      );
      restart = false;
      const total = b.total_estimate ?? 0;
      ctx.progress(`${entity} ${progressBar(b.copied, total)} ${b.copied}/${total || "?"} rows copied`);
      if (b.status === "complete") {
        ctx.progressDone();
        ctx.print(
          b,
          () =>
            `backfill of ${entity} complete: ${b.copied} rows copied; the replica holds ${b.applied} of them at the source's version (the others had newer live changes)` +
            (b.failed
              ? `; ${b.failed} row(s) refused, recorded in failed_tasks: npm run ops -- failed --entity ${entity}`
              : ""),
        );
        return b.failed ? EXIT.found : EXIT.ok;
      }
    }
  },
};
