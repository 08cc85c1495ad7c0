import type { Context } from "hono";
import type { Env } from "../env";

/** Who called an admin route, as adminAuth established it. */
export type Principal = { auth: "admin-token" } | { auth: "operator-token"; operator: string; tokenId: string };

export type AppEnv = { Bindings: Env; Variables: { requestId: string; startedAt: number; principal?: Principal } };
export type AppContext = Context<AppEnv>;
