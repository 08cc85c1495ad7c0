import type { z } from "zod";
import type { auditEntrySchema } from "../../../../schemas/operator-api";
import { EXIT } from "../exit-codes";
import { cell, table, truncate, withMore } from "../format";
import type { Command } from "../context";
import { listAuditPath } from "../requests";

type AuditEntry = z.infer<typeof auditEntrySchema>;

export const audit: Command = {
  synopsis:
    "audit [--actor A] [--auth admin-token|operator-token|access-jwt] [--action X] [--target ID] [--since T] [--until T] [--limit N] [--cursor C]",
  summary: "who did what, when and why (newest first)",
  options: ["actor", "auth", "action", "target", "since", "until", "limit", "cursor"],
  async run(ctx) {
    const page = await ctx.api<{ items: AuditEntry[]; nextCursor: string | null }>(
      "GET",
      listAuditPath(ctx.options, ctx.now()),
    );
    ctx.print(page, () =>
      withMore(
        table(
          page.items.map((a) => ({
            at: a.at,
            actor: a.actor,
            action: a.action,
            target: `${a.target_type} ${a.target_id}`,
            reason: a.reason,
            selection: truncate(cell(a.selection), 40),
            result: truncate(cell(a.result), 40),
            // who: proven (the operator's own token, a Cloudflare Access JWT) or only claimed (the shared admin token)
            who: a.auth === "operator-token" || a.auth === "access-jwt" ? "proven" : "claimed",
          })),
        ),
        page.nextCursor,
      ),
    );
    return EXIT.ok;
  },
};
