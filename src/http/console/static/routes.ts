import { Hono } from "hono";
import type { AppEnv } from "../../context";
import { STATIC_FILES } from "./assets";

/**
 * /console/static/<file>: the console's script files, before the session check (a sign-in page
 * may need them; they hold no data). Cached briefly: a deploy replaces them under the same name.
 */
export const consoleStatic = new Hono<AppEnv>().get("/:file{[a-z.]+}", (c, next) => {
  const file = STATIC_FILES[c.req.param("file") as keyof typeof STATIC_FILES];
  if (!file) return next();
  c.header("content-type", file.type);
  c.header("cache-control", "public, max-age=300");
  return c.body(file.body);
});
