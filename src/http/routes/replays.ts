import { Hono } from "hono";
import { cancelJobBody, createJobBody, createPlanBody, listJobsQuery } from "../../../schemas/operator-api";
import { workerReplayStores } from "../../wiring/replay-stores";
import { cancelJob, getJob, listJobs, startJob } from "../../services/replay-jobs";
import { createPlan, getPlan } from "../../services/replay-plans";
import { adminAuth } from "../admin-auth";
import type { AppEnv } from "../context";
import { ok } from "../envelope";
import { operatorOf } from "../operator";
import { readBody, readQuery } from "../read-json";

/** Bulk replay: plan (a dry run with a frozen selection), then execute it as a rate-limited job. */
export const replayPlanRoutes = new Hono<AppEnv>()
  .use("*", adminAuth())
  .post("/", async (c) => {
    const actor = operatorOf(c);
    const body = await readBody(c, createPlanBody);
    const deps = c.get("deps");
    const plan = await createPlan({ db: deps.db, stores: workerReplayStores(c.env, deps) }, body, actor);
    return ok(c, { plan }, 201);
  })
  .get("/:id", async (c) => ok(c, { plan: await getPlan(c.get("deps").db, c.req.param("id")) }));

export const replayJobRoutes = new Hono<AppEnv>()
  .use("*", adminAuth())
  .post("/", async (c) => {
    const actor = operatorOf(c);
    const body = await readBody(c, createJobBody);
    return ok(c, { job: await startJob(c.get("deps"), body, actor) }, 202);
  })
  .get("/", async (c) => ok(c, { items: await listJobs(c.get("deps").db, readQuery(c, listJobsQuery)) }))
  .get("/:id", async (c) => ok(c, { job: await getJob(c.get("deps").db, c.req.param("id")) }))
  .post("/:id/cancel", async (c) => {
    const actor = operatorOf(c);
    const { reason } = await readBody(c, cancelJobBody);
    return ok(c, { job: await cancelJob(c.get("deps").db, c.req.param("id"), { actor, reason }) });
  });
