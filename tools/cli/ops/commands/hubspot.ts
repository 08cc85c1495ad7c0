import type { SyncSession } from "../../../../core/hubspot/sessions";
import { EXIT } from "../exit-codes";
import { table } from "../format";
import type { Command, Context } from "../context";
import { runSubcommand, type Subcommands } from "../subcommands";

const sessionRow = (s: SyncSession) => ({
  id: s.id,
  type: s.type,
  status: s.status,
  started: s.start_time,
  ended: s.end_time,
  records: s.records_count,
  archived: s.archived_count,
  errors: s.error_count,
  error: s.error,
});

async function status(ctx: Context): Promise<number> {
  const data = await ctx.api<{
    connection: { portal_id: number; status: string; last_error: string | null } | null;
    session: SyncSession | null;
    high_water_mark: string | null;
  }>("GET", "/v1/hubspot/sync/status");
  ctx.print(data, () =>
    [
      data.connection
        ? `portal ${data.connection.portal_id}: ${data.connection.status}${data.connection.last_error ? ` (${data.connection.last_error})` : ""}`
        : "no HubSpot portal connected",
      `high-water mark: ${data.high_water_mark ?? "none (no sync completed yet)"}`,
      data.session ? `latest session:\n${table([sessionRow(data.session)])}` : "no sync session yet",
    ].join("\n"),
  );
  return EXIT.ok;
}

async function sync(ctx: Context): Promise<number> {
  const full = ctx.options.full ?? false;
  const data = await ctx.api<{ session: SyncSession }>("POST", "/v1/hubspot/sync", { full });
  ctx.print(data, () =>
    full
      ? `full sync ${data.session.id} started; follow it with: npm run ops -- hubspot status`
      : `incremental sync ${data.session.id} ${data.session.status}: ${data.session.records_count} contacts, ${data.session.archived_count} archived`,
  );
  return EXIT.ok;
}

async function sessions(ctx: Context): Promise<number> {
  const query = new URLSearchParams();
  if (ctx.options.limit) query.set("limit", ctx.options.limit);
  const data = await ctx.api<{ items: SyncSession[] }>("GET", `/v1/hubspot/sessions?${query}`);
  ctx.print(data, () => table(data.items.map(sessionRow)));
  return EXIT.ok;
}

async function contacts(ctx: Context): Promise<number> {
  const query = new URLSearchParams();
  if (ctx.options.email) query.set("email", ctx.options.email);
  if (ctx.options.status) query.set("sync_status", ctx.options.status);
  if (ctx.options.since) query.set("updated_since", ctx.options.since);
  if (ctx.options.after) query.set("after", ctx.options.after);
  if (ctx.options.limit) query.set("limit", ctx.options.limit);
  const data = await ctx.api<{ items: Array<Record<string, unknown>>; next_after: string | null }>(
    "GET",
    `/v1/hubspot/contacts?${query}`,
  );
  ctx.print(data, () =>
    [
      table(
        data.items.map((c) => ({
          hubspot_id: c.hubspot_id,
          email: c.email,
          name: [c.first_name, c.last_name].filter(Boolean).join(" "),
          sync_status: c.sync_status,
          updated: c.updated_at,
        })),
      ),
      data.next_after ? `more: --after ${data.next_after}` : "",
    ].join("\n"),
  );
  return EXIT.ok;
}

const SUBCOMMANDS: Subcommands = { status, sync, sessions, contacts };

export const hubspot: Command = {
  synopsis: [
    "hubspot status",
    "hubspot sync [--full]",
    "hubspot sessions [--limit N]",
    "hubspot contacts [--email E] [--status synced|pending|error] [--since TIME] [--after ID] [--limit N]",
  ].join("\n"),
  summary: "the HubSpot contact sync: connection and latest session, start a sync, sessions, contacts",
  options: ["full", "email", "status", "since", "after", "limit"],
  run: (ctx) => runSubcommand("hubspot", SUBCOMMANDS, ctx),
};
