import { Hono } from "hono";
import { GROUP_ACTIONS, groupActionBody, listGroupsQuery, type GroupAction } from "../../../schemas/operator-api";
import { NotFoundError } from "../../../core/errors";
import { changeGroupStatus, getFailureGroup, listFailureGroups } from "../../services/failure-groups";
import { adminAuth } from "../admin-auth";
import type { AppEnv } from "../context";
import { ok } from "../envelope";
import { operatorOf } from "../operator";
import { readBody, readQuery } from "../read-json";

/** Failures grouped by signature: list, show, acknowledge, ignore, resolve, reopen. */
export const failureGroupRoutes = new Hono<AppEnv>()
  .use("*", adminAuth())
  .get("/", async (c) => ok(c, await listFailureGroups(c.get("deps").db, readQuery(c, listGroupsQuery))))
  .get("/:id", async (c) => ok(c, await getFailureGroup(c.get("deps").db, c.req.param("id"))))
  .post("/:id/:action", async (c) => {
    const action = c.req.param("action");
    if (!(action in GROUP_ACTIONS))
      throw new NotFoundError(`no group action ${action}; one of ${Object.keys(GROUP_ACTIONS).join(", ")}`);
    const actor = operatorOf(c);
    const { reason } = await readBody(c, groupActionBody);
    return ok(c, {
      group: await changeGroupStatus(c.get("deps").db, c.req.param("id"), action as GroupAction, { actor, reason }),
    });
  });
