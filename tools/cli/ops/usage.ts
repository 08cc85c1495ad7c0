import type { Command } from "./context";
import { COMMANDS } from "./commands/index";

const OPTIONS_TEXT = `Options for every command:
  --json             print the response's data as JSON (for scripts); no tables, no progress bar
  --url URL          the worker (default $WORKER_URL or http://127.0.0.1:8787)
  --token TOKEN      your operator token (default $SDS_OPERATOR_TOKEN), else the shared admin
                     token (default $ADMIN_TOKEN or the dev default)
  --operator NAME    who you are, recorded in the audit trail (default $SDS_OPERATOR or user@host;
                     with an operator token the token says who you are and nothing is sent)

Filters: --status open|replaying|resolved|superseded|quarantined, --entity prospects|emails|...,
  --queue to-d1|to-supabase, --code ERROR_CODE, --group GROUP_ID, --job JOB_ID (the tasks a job
  last sent), --since/--until TIME (ISO 8601 with an offset, or relative: 30m, 2h, 7d),
  --min-attempts/--max-attempts N, --limit N.
Changes (replay, cancel, group actions, tokens, resolve-regression) need --reason: it is recorded in the audit trail.

Exit codes: 0 ok; 1 error (the worker's code and message are printed); 2 usage error, or status/
integrity/regressions/backfill found a problem, or a watched job's tasks failed again; 3 a watched job was cancelled.`;

function describe(command: Command): string {
  const synopses = command.synopsis.split("\n").map((s) => `  ${s.trim()}`);
  return [...synopses, `      ${command.summary}`].join("\n");
}

export function usage(): string {
  return [
    "usage: npm run ops -- <command> [options]",
    "",
    "Commands:",
    ...Object.values(COMMANDS).map(describe),
    "  help",
    "      this text",
    "",
    OPTIONS_TEXT,
  ].join("\n");
}

/** A mistake in one command gets that command's usage, not three screens of everything. */
export function commandUsage(command: Command): string {
  return `usage: npm run ops -- <command> [options]\n${describe(command)}\n(npm run ops -- help lists every command and option)`;
}
