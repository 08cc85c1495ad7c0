import type { Context } from "hono";
import type { Env } from "../env";
import type { AccessKeySource } from "../lib/access-jwt";

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
  };
};
export type AppContext = Context<AppEnv>;
