import { Hono } from "hono";
import { queueBindings } from "../../../producers/publish";
import { ValidationError } from "../../lib/errors";
import { formatIssues } from "../../lib/zod-issues";
import { getFailedTask, listFailedTasks, listFilterSchema, replayFailedTask } from "../../services/failed-tasks";
import { bearerAuth } from "../auth";
import type { AppEnv } from "../context";
import { ok } from "../envelope";

/** Operator basics: inspect and replay dead-lettered events. */
export const failedTaskRoutes = new Hono<AppEnv>()
  .use("*", bearerAuth("ADMIN_TOKEN"))
  .get("/", async (c) => {
    const filter = listFilterSchema.safeParse(c.req.query());
    if (!filter.success) throw new ValidationError("INVALID_REQUEST", formatIssues(filter.error));
    return ok(c, await listFailedTasks(c.env.DB, filter.data));
  })
  .get("/:id", async (c) => ok(c, { task: await getFailedTask(c.env.DB, c.req.param("id")) }))
  .post("/:id/replay", async (c) =>
    ok(c, { task: await replayFailedTask({ db: c.env.DB, queues: queueBindings(c.env) }, c.req.param("id")) }, 202),
  );
