import { EXIT } from "../exit-codes";
import { table } from "../format";
import type { Command } from "../context";

type Status = {
  healthy: boolean;
  reasons: string[];
  entities: Array<{
    entity: string;
    authority: string;
    replica: string | null;
    rows: { supabase: number | null; d1: number | null };
    lagSeconds: number | null;
    /** changeLog or outboxUnpublished (a count), or external (the outside authority's name: no backlog of ours). */
    backlog: Record<string, number | string | null>;
    openFailedTasks: number;
    healthy: boolean;
    reasons: string[];
  }>;
};

export const status: Command = {
  synopsis: "status",
  summary: "is each entity in sync, and why not (exit 2 if unhealthy)",
  options: [],
  async run(ctx) {
    const s = await ctx.api<Status>("GET", "/v1/sync/status");
    ctx.print(s, () =>
      [
        table(
          s.entities.map((e) => ({
            entity: e.entity,
            flow: e.replica ? `${e.authority} -> ${e.replica}` : `${e.authority} only`,
            "rows supabase": e.rows.supabase,
            "rows d1": e.rows.d1,
            "lag s": e.lagSeconds,
            backlog: typeof Object.values(e.backlog)[0] === "number" ? Object.values(e.backlog)[0] : null,
            "failed open": e.openFailedTasks,
            ok: e.healthy ? "yes" : "NO",
          })),
        ),
        "",
        s.healthy ? "healthy" : `NOT healthy:\n${s.reasons.map((r) => `  - ${r}`).join("\n")}`,
      ].join("\n"),
    );
    return s.healthy ? EXIT.ok : EXIT.found;
  },
};
