import type { Context } from "hono";
import type { Env } from "../env";
import type { AccessKeySource } from "../lib/access-jwt";
import type { WorkerDeps } from "../wiring/deps";
import type { ConsoleSession } from "./console/session";

/** Who called an admin route, as adminAuth established it. */
export type Principal =
  | { auth: "admin-token" }
  | { auth: "operator-token"; operator: string; tokenId: string }
  | { auth: "access-jwt"; operator: string };

export type AppEnv = {
  Bindings: Env;
  Variables: {
    requestId: string;
    startedAt: number;
    principal?: Principal;
    /** Where Cloudflare Access's signing keys come from (createApp's dependency). */
    accessKeys: AccessKeySource;
    /** The worker's dependencies, built from env once for this request (src/wiring/deps.ts). */
    deps: WorkerDeps;
    /** The console's signed-in operator (src/http/console/routes.tsx), once its session is checked. */
    consoleSession?: ConsoleSession;
    /** The console's POSTed form, read once within its size limit (src/http/console/form.ts). */
    consoleForm?: Record<string, string>;
  };
};
export type AppContext = Context<AppEnv>;
