import type { Context } from "hono";
import type { Env } from "../env";

export type AppEnv = { Bindings: Env; Variables: { requestId: string; startedAt: number } };
export type AppContext = Context<AppEnv>;
