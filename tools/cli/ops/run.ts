import { ApiError, createApi } from "./api-client";
import { parseCli, rejectForeignOptions, type Environment } from "./args";
import { COMMANDS } from "./commands/index";
import { createPrinting, type Command, type Io } from "./context";
import { EXIT } from "./exit-codes";
import { hintFor } from "./hints";
import { commandUsage, usage } from "./usage";
import { UsageError } from "./usage-error";

export interface CliDeps extends Environment {
  io: Io;
  fetch: typeof fetch;
  now(): Date;
  sleep(ms: number): Promise<void>;
}

/** The whole CLI as a function of its arguments and surroundings; returns the exit code. */
export async function runCli(argv: string[], deps: CliDeps): Promise<number> {
  const { io } = deps;
  let command: Command | undefined;
  try {
    const cli = parseCli(argv, deps);
    if (cli.command === "help" || (cli.options.help && !cli.command)) {
      io.stdout(`${usage()}\n`);
      return EXIT.ok;
    }
    command = cli.command === undefined ? undefined : COMMANDS[cli.command];
    if (!command)
      throw new UsageError(cli.command === undefined ? "no command given" : `unknown command "${cli.command}"`);
    if (cli.options.help) {
      io.stdout(`${commandUsage(command)}\n`);
      return EXIT.ok;
    }
    rejectForeignOptions(cli.command!, cli.options, command.options);
    return await command.run({
      api: createApi(cli.connection, deps.fetch),
      args: cli.args,
      options: cli.options,
      connection: cli.connection,
      now: deps.now,
      sleep: deps.sleep,
      io,
      ...createPrinting(io, cli.options.json ?? false),
    });
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`usage error: ${error.message}\n\n${command ? commandUsage(command) : usage()}\n`);
      return EXIT.usage;
    }
    if (error instanceof ApiError) {
      const hint = hintFor(error.code);
      io.stderr(`\nerror ${error.code}: ${error.message}\n${hint ? `hint: ${hint}\n` : ""}`);
      return EXIT.error;
    }
    io.stderr(`\nerror: ${(error as Error)?.stack ?? String(error)}\n`);
    return EXIT.error;
  }
}
