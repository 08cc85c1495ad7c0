import type { Context } from "./context";
import { UsageError } from "./usage-error";

export type Subcommands = Record<string, (ctx: Context) => Promise<number>>;

/**
 * Runs `<command> <sub> …`'s sub, or says which ones there are. Own keys only: `tokens toString`
 * must be an unknown subcommand, not Object.prototype's.
 */
export function runSubcommand(command: string, subcommands: Subcommands, ctx: Context): Promise<number> {
  const sub = ctx.args[0];
  const names = Object.keys(subcommands);
  const choices = `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
  if (sub === undefined) throw new UsageError(`${command} needs ${choices}`);
  if (!Object.hasOwn(subcommands, sub)) throw new UsageError(`unknown ${command} subcommand "${sub}": use ${choices}`);
  return subcommands[sub]!(ctx);
}
