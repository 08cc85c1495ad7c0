import { Hono } from "hono";
import { listTasksQuery, replayTaskBody } from "../../../schemas/operator-api";
import { workerReplayStores } from "../../wiring/replay-stores";
import { getTaskDetail, listFailedTasks } from "../../services/failed-tasks";
import { replayOneTask } from "../../services/replay-task";
import { adminAuth } from "../admin-auth";
import type { AppEnv } from "../context";
import { ok } from "../envelope";
import { operatorOf } from "../operator";
import { readBody, readQuery } from "../read-json";

/** Inspect dead-lettered events and replay one at a time (bulk replays go through plans and jobs). */
export const failedTaskRoutes = new Hono<AppEnv>()
  .use("*", adminAuth())
  .get("/", async (c) => ok(c, await listFailedTasks(c.get("deps").db, readQuery(c, listTasksQuery))))
  .get("/:id", async (c) => ok(c, await getTaskDetail(c.get("deps").db, c.req.param("id"))))
  .post("/:id/replay", async (c) => {
    const actor = operatorOf(c);
    const body = await readBody(c, replayTaskBody);
    const deps = c.get("deps");
    const { db, queues } = deps;
    return ok(
      c,
      await replayOneTask({ db, queues, stores: workerReplayStores(c.env, deps) }, c.req.param("id"), {
        ...body,
        actor,
      }),
      202,
    );
  });
