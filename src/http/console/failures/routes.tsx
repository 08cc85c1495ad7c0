/** @jsxImportSource hono/jsx */
import { Hono } from "hono";
import {
  GROUP_ACTIONS,
  GROUP_STATUSES,
  groupActionBody,
  listGroupsQuery,
  listTasksQuery,
  replayTaskBody,
} from "../../../../schemas/operator-api";
import { NotFoundError, type SyncError } from "../../../../core/errors";
import { workerReplayStores } from "../../../wiring/replay-stores";
import { getTaskDetail, listFailedTasks } from "../../../services/failed-tasks";
import { replayOneTask } from "../../../services/replay-task";
import { changeGroupStatus, getFailureGroup, listFailureGroups } from "../../../services/failure-groups";
import type { AppContext, AppEnv } from "../../context";
import { field, parseForm, text } from "../form-input";
import { fragmentOrRefusal, pageOrRefusal, refusalOf, refusalStatus } from "../refusal";
import { consoleActor } from "../actor";
import { GroupPage, GroupSummary, TASKS_PER_PAGE } from "./group-page";
import { isGroupAction } from "./group-moves";
import { GroupRows, GroupsPage, type GroupFilter } from "./groups-page";
import { TaskPage } from "./task-page";

const session = (c: AppContext) => c.get("consoleSession")!;
const backToGroups = { href: "/console/failures", label: "← All failure groups" };
const taskWhere = { title: "Failed task", section: "failures", back: backToGroups } as const;
const groupWhere = { title: "Failure group", section: "failures", back: backToGroups } as const;

function groupFilter(c: AppContext): GroupFilter {
  return {
    status: c.req.query("status") || undefined,
    entity: c.req.query("entity") || undefined,
    cursor: c.req.query("cursor") || undefined,
  };
}

/** Checked with the API's listGroupsQuery (its default limit too): a bad filter value is refused, not ignored. */
const groupsQuery = (filter: GroupFilter) => parseForm(listGroupsQuery, filter);

async function groupsOf(c: AppContext, filter: GroupFilter) {
  const page = await listFailureGroups(c.get("deps").db, groupsQuery(filter));
  return { groups: page.items, nextCursor: page.nextCursor };
}

async function groupPage(c: AppContext, id: string, extra: { error?: SyncError; reason?: string } = {}) {
  const { db } = c.get("deps");
  const cursor = c.req.query("cursor") || undefined;
  const { group } = await getFailureGroup(db, id);
  // The API's listTasksQuery checks the page cursor (a ULID), as GET /v1/admin/failed-tasks does.
  const tasks = await listFailedTasks(db, parseForm(listTasksQuery, { group: id, cursor, limit: TASKS_PER_PAGE }));
  const changed = c.req.query("changed");
  return (
    <GroupPage
      session={session(c)}
      group={group}
      tasks={tasks.items}
      cursor={cursor}
      nextCursor={tasks.nextCursor}
      changed={GROUP_STATUSES.find((s) => s === changed)}
      {...extra}
    />
  );
}

async function taskPage(c: AppContext, id: string, extra: { error?: SyncError; reason?: string } = {}) {
  const replayed = c.req.query("replayed");
  const detail = await getTaskDetail(c.get("deps").db, id);
  return (
    <TaskPage
      session={session(c)}
      detail={detail}
      replayed={replayed === "sent" || replayed === "superseded" ? replayed : undefined}
      {...extra}
    />
  );
}

/**
 * /console/failures: failure groups, their tasks, a task's event and history, and the operator's
 * status moves. Reads and changes go through the same services and schemas as /v1/admin.
 */
export const failuresRoutes = new Hono<AppEnv>()
  .get("/", async (c) => {
    const filter = groupFilter(c);
    try {
      return c.html(<GroupsPage session={session(c)} filter={filter} {...await groupsOf(c, filter)} />);
    } catch (e) {
      const error = refusalOf(e);
      return c.html(
        <GroupsPage session={session(c)} filter={{}} groups={[]} nextCursor={null} error={error} />,
        refusalStatus(error),
      );
    }
  })
  .get("/live/groups", (c) =>
    fragmentOrRefusal(c, async () => <GroupRows groups={(await groupsOf(c, groupFilter(c))).groups} />),
  )
  .get("/groups/:id", (c) => pageOrRefusal(c, groupWhere, () => groupPage(c, c.req.param("id"))))
  .get("/groups/:id/live", (c) =>
    fragmentOrRefusal(c, async () => (
      <GroupSummary group={(await getFailureGroup(c.get("deps").db, c.req.param("id"))).group} />
    )),
  )
  .post("/groups/:id/status", async (c) => {
    const id = c.req.param("id");
    const form = await c.req.parseBody();
    try {
      const action = form.action;
      // As POST /v1/admin/failure-groups/:id/:action refuses an unknown action.
      if (!isGroupAction(action))
        throw new NotFoundError(`no group action ${String(action)}; one of ${Object.keys(GROUP_ACTIONS).join(", ")}`);
      const { reason } = parseForm(groupActionBody, { reason: text(form, "reason") });
      const group = await changeGroupStatus(c.get("deps").db, id, action, {
        actor: consoleActor(session(c)),
        reason,
      });
      return c.redirect(`/console/failures/groups/${id}?changed=${group.status}`, 303);
    } catch (e) {
      const error = refusalOf(e);
      // The page again, with why and the reason as typed; a group that does not exist gets the short page.
      const again = () => groupPage(c, id, { error, reason: text(form, "reason") });
      return pageOrRefusal(c, groupWhere, again, refusalStatus(error));
    }
  })
  .get("/tasks/:id", (c) => pageOrRefusal(c, taskWhere, () => taskPage(c, c.req.param("id"))))
  .post("/tasks/:id/replay", async (c) => {
    const id = c.req.param("id");
    const form = await c.req.parseBody();
    const reason = text(form, "reason");
    try {
      const body = parseForm(replayTaskBody, { reason, mode: field(form, "mode"), override: form.override === "on" });
      const { db, queues } = c.get("deps");
      const stores = workerReplayStores(c.env, c.get("deps"));
      const { outcome } = await replayOneTask({ db, queues, stores }, id, {
        ...body,
        actor: consoleActor(session(c)),
      });
      return c.redirect(`/console/failures/tasks/${id}?replayed=${outcome}`, 303);
    } catch (e) {
      const error = refusalOf(e);
      return pageOrRefusal(c, taskWhere, () => taskPage(c, id, { error, reason }), refusalStatus(error));
    }
  });
