import { listRegressionsQuery, type Regression } from "../../../../schemas/operator-api";
import { queryString } from "../api-client";
import { EXIT } from "../exit-codes";
import { table } from "../format";
import type { Command } from "../context";
import { validate } from "../requests";

export const regressions: Command = {
  synopsis: "regressions [--entity E] [--status open|resolved] [--limit N]",
  summary: "source rows older than the replica (after a point-in-time restore; exit 2 if any are open)",
  options: ["entity", "status", "limit"],
  async run(ctx) {
    const query = validate(
      listRegressionsQuery,
      Object.fromEntries(
        Object.entries({ entity: ctx.options.entity, status: ctx.options.status, limit: ctx.options.limit }).filter(
          ([, v]) => v !== undefined,
        ),
      ),
    );
    const data = await ctx.api<{ regressions: Regression[] }>("GET", `/v1/admin/regressions${queryString(query)}`);
    const rows = data.regressions;
    ctx.print(data, () =>
      rows.length
        ? `${table(rows.map(({ entity, id, source_version, replica_version, replica_state, last_seen_at, status }) => ({ entity, id, source_version, replica_version, replica_state, last_seen_at, status })))}\n\n` +
          (query.status === "open"
            ? `resolve with: npm run ops -- resolve-regression --entity <entity> --reason "<why>"`
            : "")
        : `no ${query.status} regressions`,
    );
    return query.status === "open" && rows.length ? EXIT.found : EXIT.ok;
  },
};
