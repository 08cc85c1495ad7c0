import { parseArgs } from "node:util";
import { operatorName } from "../../../schemas/operator-api";
import { looksLikeOperatorToken } from "../../../src/lib/operator-token";
import type { Connection } from "./api-client";
import { UsageError } from "./usage-error";

/** Every flag any command takes. Which command accepts which is declared with the command. */
export const OPTIONS = {
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  url: { type: "string" },
  token: { type: "string" },
  operator: { type: "string" },
  // failed-task filters (also the plan's selection)
  status: { type: "string" },
  entity: { type: "string" },
  queue: { type: "string" },
  code: { type: "string" },
  group: { type: "string" },
  job: { type: "string" },
  since: { type: "string" },
  until: { type: "string" },
  "min-attempts": { type: "string" },
  "max-attempts": { type: "string" },
  limit: { type: "string" },
  cursor: { type: "string" },
  // plans and replays
  ids: { type: "string" },
  mode: { type: "string" },
  override: { type: "boolean" },
  reason: { type: "string" },
  plan: { type: "string" },
  rate: { type: "string" },
  "no-watch": { type: "boolean" },
  // operator tokens
  expires: { type: "string" },
  // audit
  auth: { type: "string" },
  actor: { type: "string" },
  action: { type: "string" },
  target: { type: "string" },
  // reconcile, backfill
  "dry-run": { type: "boolean" },
  restart: { type: "boolean" },
  // hubspot
  full: { type: "boolean" },
  email: { type: "string" },
  after: { type: "string" },
} as const;

export type OptionName = keyof typeof OPTIONS;
export type Options = { [K in OptionName]?: (typeof OPTIONS)[K]["type"] extends "boolean" ? boolean : string };

/** Accepted by every command. */
export const GLOBAL_OPTIONS: readonly OptionName[] = ["json", "help", "url", "token", "operator"];

export interface ParsedCli {
  command: string | undefined;
  /** Positionals after the command. */
  args: string[];
  options: Options;
  connection: Connection;
}

export interface Environment {
  env: Record<string, string | undefined>;
  user: string;
  host: string;
}

/** `$SDS_OPERATOR`, else `user@host`, squeezed into what the worker accepts as a name. */
export function defaultOperator({ env, user, host }: Environment): string {
  if (env.SDS_OPERATOR) return env.SDS_OPERATOR;
  return `${user}@${host}`.replace(/[^A-Za-z0-9._@+:-]/g, "-").slice(0, 100);
}

/**
 * The credential: `--token`, else `$SDS_OPERATOR_TOKEN` (your own token: proves who you are),
 * else `$ADMIN_TOKEN` (the shared one), else the dev default.
 */
function tokenOf(options: Options, env: Environment["env"]): string {
  return options.token ?? (env.SDS_OPERATOR_TOKEN || undefined) ?? (env.ADMIN_TOKEN || undefined) ?? "dev-admin-token";
}

export function parseCli(argv: string[], environment: Environment): ParsedCli {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    // node:util says e.g. "Unknown option '--entiy'": that is the caller's mistake, not ours.
    throw new UsageError((error as Error).message);
  }
  const options = parsed.values as Options;
  const token = tokenOf(options, environment.env);
  // An operator token names its operator itself: the user@host default would only contradict it
  // (OPERATOR_MISMATCH). A name given on purpose is still sent, and the worker checks it.
  const explicit = options.operator ?? (environment.env.SDS_OPERATOR || undefined);
  const operator = explicit ?? (looksLikeOperatorToken(token) ? null : defaultOperator(environment));
  if (operator !== null) {
    const checked = operatorName.safeParse(operator);
    if (!checked.success)
      throw new UsageError(
        `--operator ${JSON.stringify(operator)} ${checked.error.issues[0]?.message ?? "is invalid"} (set --operator or $SDS_OPERATOR)`,
      );
  }
  const [command, ...args] = parsed.positionals;
  return {
    command,
    args,
    options,
    connection: { url: options.url ?? environment.env.WORKER_URL ?? "http://127.0.0.1:8787", token, operator },
  };
}

/** A flag given to a command that would ignore it is almost always a typo or a misunderstanding. */
export function rejectForeignOptions(command: string, options: Options, accepted: readonly OptionName[]): void {
  const foreign = (Object.keys(options) as OptionName[]).filter(
    (name) => options[name] !== undefined && !accepted.includes(name) && !GLOBAL_OPTIONS.includes(name),
  );
  if (foreign.length) throw new UsageError(`${command} does not take ${foreign.map((f) => `--${f}`).join(", ")}`);
}

/** The positional a command cannot run without (`show <task-id>`). */
export function requireArg(command: string, args: string[], index: number, what: string): string {
  const value = args[index];
  if (!value) throw new UsageError(`${command} needs ${what}`);
  return value;
}
