/** @jsxImportSource hono/jsx */
import { Hono } from "hono";
import { cancelJobBody, createJobBody, listJobsQuery } from "../../../../schemas/operator-api";
import { utcNow } from "../../../../core/utc";
import type { SyncError } from "../../../../core/errors";
import { workerReplayStores } from "../../../wiring/replay-stores";
import { failedAgainCount } from "../../../services/replay-job-progress";
import { cancelJob, getJob, listJobs, startJob } from "../../../services/replay-jobs";
import { createPlan, getPlan } from "../../../services/replay-plans";
import type { AppContext, AppEnv } from "../../context";
import { field, parseForm, text } from "../form-input";
import { fragmentOrRefusal, pageOrRefusal, refusalOf, refusalStatus } from "../refusal";
import { consoleActor } from "../actor";
import { JobPage, JobProgress } from "./job-page";
import { JobRows, JobsPage } from "./jobs-page";
import { NewReplayPage } from "./new-replay-page";
import { planBodyOf, planFormValues } from "./plan-form";
import { PlanPage } from "./plan-page";

const session = (c: AppContext) => c.get("consoleSession")!;
const back = { href: "/console/replays", label: "← Replays" };
const planWhere = { title: "Replay plan", section: "replays", back } as const;
const jobWhere = { title: "Replay job", section: "replays", back } as const;

const recentJobs = (c: AppContext) => listJobs(c.get("deps").db, parseForm(listJobsQuery, {}));

async function jobAndProgress(c: AppContext, id: string) {
  const { db } = c.get("deps");
  const job = await getJob(db, id);
  return { job, failedAgain: await failedAgainCount(db, job) };
}

async function planPage(c: AppContext, id: string, extra: { error?: SyncError; reason?: string; rate?: string } = {}) {
  const plan = await getPlan(c.get("deps").db, id);
  return <PlanPage session={session(c)} plan={plan} now={utcNow()} {...extra} />;
}

async function jobPage(c: AppContext, id: string, extra: { error?: SyncError; reason?: string } = {}) {
  const cancelled = c.req.query("cancelled") === "1";
  return <JobPage session={session(c)} {...await jobAndProgress(c, id)} cancelled={cancelled} {...extra} />;
}

/**
 * /console/replays: select → dry-run plan → confirm (reason, rate) → job with live progress →
 * cancel. The same plan and job services, schemas and audit lines as /v1/admin/replay-*.
 */
export const replaysRoutes = new Hono<AppEnv>()
  .get("/", async (c) => c.html(<JobsPage session={session(c)} jobs={await recentJobs(c)} />))
  .get("/live/jobs", async (c) => c.html(<JobRows jobs={await recentJobs(c)} />))
  .get("/new", (c) => c.html(<NewReplayPage session={session(c)} values={planFormValues(c.req.query())} />))
  .post("/plans", async (c) => {
    const values = planFormValues(await c.req.parseBody());
    try {
      const plan = await createPlan(
        { db: c.get("deps").db, stores: workerReplayStores(c.env, c.get("deps")) },
        planBodyOf(values),
        consoleActor(session(c)),
      );
      return c.redirect(`/console/replays/plans/${plan.id}`, 303);
    } catch (e) {
      const error = refusalOf(e);
      return c.html(<NewReplayPage session={session(c)} values={values} error={error} />, refusalStatus(error));
    }
  })
  .get("/plans/:id", (c) => pageOrRefusal(c, planWhere, () => planPage(c, c.req.param("id"))))
  .post("/plans/:id/execute", async (c) => {
    const id = c.req.param("id");
    const form = await c.req.parseBody();
    const reason = text(form, "reason");
    const rate = field(form, "rate_per_second");
    try {
      // A number field arrives as text; an empty one means the API's default rate.
      const body = parseForm(createJobBody, { plan_id: id, reason, rate_per_second: rate && Number(rate) });
      const job = await startJob(c.get("deps"), body, consoleActor(session(c)));
      return c.redirect(`/console/replays/jobs/${job.id}`, 303);
    } catch (e) {
      const error = refusalOf(e);
      return pageOrRefusal(c, planWhere, () => planPage(c, id, { error, reason, rate }), refusalStatus(error));
    }
  })
  .get("/jobs/:id", (c) => pageOrRefusal(c, jobWhere, () => jobPage(c, c.req.param("id"))))
  .get("/jobs/:id/progress", (c) =>
    fragmentOrRefusal(c, async () => <JobProgress {...await jobAndProgress(c, c.req.param("id"))} />),
  )
  .post("/jobs/:id/cancel", async (c) => {
    const id = c.req.param("id");
    const form = await c.req.parseBody();
    const reason = text(form, "reason");
    try {
      const body = parseForm(cancelJobBody, { reason });
      await cancelJob(c.get("deps").db, id, { actor: consoleActor(session(c)), reason: body.reason });
      return c.redirect(`/console/replays/jobs/${id}?cancelled=1`, 303);
    } catch (e) {
      const error = refusalOf(e);
      return pageOrRefusal(c, jobWhere, () => jobPage(c, id, { error, reason }), refusalStatus(error));
    }
  });
