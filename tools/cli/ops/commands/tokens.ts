import type { OperatorToken } from "../../../../schemas/operator-api";
import { requireArg } from "../args";
import { EXIT } from "../exit-codes";
import { table } from "../format";
import type { Command, Context } from "../context";
import { createTokenRequest, listTokensPath, reasonBody } from "../requests";
import { runSubcommand, type Subcommands } from "../subcommands";

const tokenRow = (t: OperatorToken) => ({
  id: t.id,
  operator: t.operator,
  status: t.status,
  created: t.created_at,
  by: t.created_by,
  expires: t.expires_at,
  last_used: t.last_used_at,
  revoked: t.revoked_at ? `${t.revoked_at} by ${t.revoked_by}` : null,
});

async function create(ctx: Context): Promise<number> {
  const operator = requireArg("tokens create", ctx.args, 1, "the operator the token is for");
  const body = createTokenRequest(operator, ctx.options, ctx.now());
  const data = await ctx.api<{ token: OperatorToken; secret: string }>("POST", "/v1/admin/operator-tokens", body);
  ctx.print(data, () =>
    [
      `token ${data.token.id} for ${data.token.operator} created (expires ${data.token.expires_at ?? "never"})`,
      "",
      `  ${data.secret}`,
      "",
      "This is the only time it is shown: the worker keeps only its hash. Hand it over privately;",
      `${data.token.operator} sets SDS_OPERATOR_TOKEN=<token> and the CLI proves who they are with it.`,
    ].join("\n"),
  );
  return EXIT.ok;
}

async function list(ctx: Context): Promise<number> {
  const data = await ctx.api<{ items: OperatorToken[] }>("GET", listTokensPath(ctx.args[1], ctx.options));
  ctx.print(data, () => table(data.items.map(tokenRow)));
  return EXIT.ok;
}

async function revoke(ctx: Context): Promise<number> {
  const id = requireArg("tokens revoke", ctx.args, 1, "a token id (see: npm run ops -- tokens list)");
  const body = reasonBody("tokens revoke", ctx.options);
  const data = await ctx.api<{ token: OperatorToken }>(
    "POST",
    `/v1/admin/operator-tokens/${encodeURIComponent(id)}/revoke`,
    body,
  );
  ctx.print(
    data,
    () =>
      `token ${data.token.id} of ${data.token.operator} is revoked: the worker refuses it from now on (TOKEN_REVOKED)`,
  );
  return EXIT.ok;
}

const SUBCOMMANDS: Subcommands = { create, list, revoke };

export const tokens: Command = {
  synopsis: [
    "tokens create <operator> --reason R [--expires 90d|TIME]",
    "tokens list [<operator>] [--status active|revoked|expired] [--limit N]",
    "tokens revoke <token-id> --reason R",
  ].join("\n"),
  summary: "per-operator tokens: proven identity in the audit trail (the token is shown once, at creation)",
  options: ["reason", "expires", "status", "limit"],
  run: (ctx) => runSubcommand("tokens", SUBCOMMANDS, ctx),
};
