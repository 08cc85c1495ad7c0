import type { Api, Connection } from "./api-client";
import type { OptionName, Options } from "./args";

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** A terminal gets a progress bar redrawn in place; a log file gets one line per change. */
  stderrIsTTY: boolean;
}

/** What a command gets: everything it touches outside itself is passed in, so tests can drive it. */
export interface Context {
  api: Api;
  args: string[];
  options: Options;
  connection: Connection;
  now(): Date;
  sleep(ms: number): Promise<void>;
  io: Io;
  /** `--json`: the response's data as JSON on stdout; otherwise the human rendering. */
  print(data: unknown, human: () => string): void;
  /** Transient progress on stderr; silent under `--json` so scripts read clean output. */
  progress(line: string): void;
  /** Ends a progress line (a TTY's bar was drawn without a newline). */
  progressDone(): void;
}

export interface Command {
  synopsis: string;
  summary: string;
  options: readonly OptionName[];
  run(ctx: Context): Promise<number>;
}

export function createPrinting(io: Io, json: boolean): Pick<Context, "print" | "progress" | "progressDone"> {
  let last = "";
  let open = false;
  return {
    print(data, human) {
      io.stdout(`${json ? JSON.stringify(data, null, 2) : human()}\n`);
    },
    progress(line) {
      if (json || line === last) return;
      last = line;
      if (io.stderrIsTTY) {
        io.stderr(`\r${line}\x1b[K`);
        open = true;
      } else io.stderr(`${line}\n`);
    },
    progressDone() {
      if (open) io.stderr("\n");
      open = false;
      last = "";
    },
  };
}
