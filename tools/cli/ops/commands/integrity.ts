import { EXIT } from "../exit-codes";
import { table } from "../format";
import type { Command } from "../context";

export const integrity: Command = {
  synopsis: "integrity",
  summary: "run the integrity checks (exit 2 if anything is found)",
  options: [],
  async run(ctx) {
    const { run } = await ctx.api<{
      run: { issues: number; findings: Array<Record<string, unknown> & { count: number }> };
    }>("POST", "/v1/admin/integrity");
    ctx.print(
      run,
      () =>
        `${table(run.findings.filter((f) => f.count > 0))}\n\n${run.issues} issue(s) in ${run.findings.length} checks`,
    );
    return run.issues ? EXIT.found : EXIT.ok;
  },
};
