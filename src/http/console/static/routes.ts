import { Hono } from "hono";
import type { AppEnv } from "../../context";
import { STATIC_FILES, staticVersion, type StaticFile } from "./assets";

/**
 * /console/static/<file>: the console's static files, before the session check (the sign-in page
 * needs them; they hold no data). Asked for at the current version (staticUrl), a file is cached
 * for a year; asked for without one or at an old version (a page from before a deploy), briefly.
 */
export const consoleStatic = new Hono<AppEnv>().get("/:file{[a-z.]+}", (c, next) => {
  const name = c.req.param("file") as StaticFile;
  const file = STATIC_FILES[name];
  if (!file) return next();
  c.header("content-type", file.type);
  c.header(
    "cache-control",
    c.req.query("v") === staticVersion(name) ? "public, max-age=31536000, immutable" : "public, max-age=300",
  );
  return c.body(file.body);
});
