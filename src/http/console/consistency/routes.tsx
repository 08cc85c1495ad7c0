/** @jsxImportSource hono/jsx */
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { backfillBody, reconcileBody, resolveRegressionsBody } from "../../../../schemas/operator-api";
import { reconcilable } from "../../../../schemas/registry";
import { SyncError } from "../../../../core/errors";
import { getBackfill } from "../../../services/backfill";
import {
  backfillEntity,
  listIntegrityRuns,
  listReconcileRuns,
  reconcileEntities,
  replicated,
  resolveEntityRegressions,
} from "../../../services/consistency-actions";
import { listRegressions, restampableEntities } from "../../../services/regressions";
import { runIntegrityChecks } from "../../../services/integrity";
import type { AppContext, AppEnv } from "../../context";
import { parseRequest } from "../../read-json";
import { consoleActor } from "../actor";
import { fragmentOrRefusal, refusalOf } from "../refusal";
import { readForm } from "../form";
import { ConsistencyPage, type ConsistencyAction, type ConsistencyView } from "./page";
import { REGRESSIONS_SHOWN, type RestampSummary } from "./regressions";
import { BackfillProgress } from "./progress";

const PAGE = "/console/consistency";
const REPLICATED = reconcilable().map((e) => e.name);

const ulid = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, "must be a ULID");
/** What the page shows after an action redirected to it (PRG): the runs it started. */
const pageQuery = z.object({
  runs: z
    .string()
    .transform((s) => s.split(","))
    .pipe(z.array(ulid).min(1).max(20))
    .optional(),
  integrity: ulid.optional(),
  /** What a re-stamp did: entity:restamped:unchanged. */
  restamped: z
    .string()
    .regex(/^[a-z_]{1,64}:\d{1,7}:\d{1,7}$/, "must be entity:restamped:unchanged")
    .transform((s): RestampSummary => {
      const [entity, restamped, unchanged] = s.split(":");
      return { entity: entity!, restamped: Number(restamped), unchanged: Number(unchanged) };
    })
    .optional(),
});

/** Empty form fields are absent, as an API caller would leave them out. */
const given = (value: string | undefined) => (value?.trim() ? value.trim() : undefined);

async function render(
  c: AppContext,
  extra: Pick<ConsistencyView, "refusal" | "form"> & {
    runs?: string[];
    integrity?: string;
    restamped?: RestampSummary;
  } = {},
  status: ContentfulStatusCode = 200,
) {
  const { db } = c.get("deps");
  const [selected, recent, integrity, backfills, open, restampable] = await Promise.all([
    extra.runs ? listReconcileRuns(db, { ids: extra.runs, limit: 20 }) : Promise.resolve([]),
    listReconcileRuns(db, { limit: 10 }),
    listIntegrityRuns(db, { id: extra.integrity, limit: 1 }),
    Promise.all(REPLICATED.map(async (entity) => ({ entity, state: await getBackfill(db, entity) }))),
    listRegressions(db, { status: "open", limit: REGRESSIONS_SHOWN }),
    restampableEntities(db),
  ]);
  return c.html(
    <ConsistencyPage
      session={c.get("consoleSession")!}
      entities={REPLICATED}
      selected={selected}
      recent={recent}
      integrity={integrity[0]}
      backfills={backfills}
      refusal={extra.refusal}
      form={extra.form}
      regressions={{ open, restampable, done: extra.restamped }}
    />,
    status,
  );
}

/**
 * Runs a form's action; a refusal (bad input, NOT_FOUND, a store down) re-renders the page with
 * the code in an alert and the form as it was typed, with the error's status. Success redirects
 * (303, POST-redirect-GET) to the page showing what the action did.
 */
async function act(c: AppContext, action: ConsistencyAction, run: (fields: Record<string, string>) => Promise<string>) {
  const fields = await readForm(c);
  try {
    return c.redirect(await run(fields), 303);
  } catch (error) {
    if (!(error instanceof SyncError)) throw error;
    const { csrf: _csrf, ...typed } = fields;
    return render(
      c,
      { refusal: refusalOf(error), form: { action, fields: typed } },
      error.status as ContentfulStatusCode,
    );
  }
}

/**
 * /console/consistency: reconciliation, integrity checks and backfills through the very service
 * functions and body schemas the admin API uses (src/services/consistency-actions.ts), audited with
 * the signed-in operator exactly as the API audits its caller.
 */
export const consistencyConsole = new Hono<AppEnv>()
  .get("/", async (c) => {
    let q: z.infer<typeof pageQuery>;
    try {
      q = parseRequest(pageQuery, c.req.query());
    } catch (error) {
      if (!(error instanceof SyncError)) throw error;
      return render(c, { refusal: refusalOf(error) }, 400);
    }
    return render(c, q);
  })
  .post("/reconcile", (c) =>
    act(c, "reconcile", async (fields) => {
      // The radio's two values are the API's `repair: false | true`; anything else reaches the schema as is and is refused there.
      const repair = fields.mode === "repair" ? true : fields.mode === "dry-run" ? false : fields.mode;
      const body = parseRequest(reconcileBody, {
        entity: given(fields.entity),
        repair,
        reason: given(fields.reason),
        after: given(fields.after),
        until: given(fields.until),
      });
      const { db, supabase, settings } = c.get("deps");
      const actor = body.repair ? consoleActor(c.get("consoleSession")!) : null;
      const runs = await reconcileEntities({ db, rpc: supabase(), settings }, body, actor);
      return `${PAGE}?runs=${runs.map((r) => r.id).join(",")}#reconcile`;
    }),
  )
  .post("/integrity", (c) =>
    act(c, "integrity", async () => {
      const { db, supabase } = c.get("deps");
      const run = await runIntegrityChecks({ db, rpc: supabase() });
      return `${PAGE}?integrity=${run.id}#integrity`;
    }),
  )
  .post("/backfill", (c) =>
    act(c, "backfill", async (fields) => {
      const entity = replicated(fields.entity ?? "");
      const body = parseRequest(backfillBody, {
        restart: fields.restart === undefined ? undefined : fields.restart === "on" ? true : fields.restart,
        reason: given(fields.reason),
      });
      const { db, supabase } = c.get("deps");
      await backfillEntity({ db, rpc: supabase() }, entity.name, body, consoleActor(c.get("consoleSession")!));
      return `${PAGE}#backfill`;
    }),
  )
  .post("/regressions/resolve", (c) =>
    act(c, "regressions", async (fields) => {
      const body = parseRequest(resolveRegressionsBody, { entity: fields.entity, reason: fields.reason });
      const { db, supabase } = c.get("deps");
      const done = await resolveEntityRegressions(
        { db, rpc: supabase() },
        body,
        consoleActor(c.get("consoleSession")!),
      );
      return `${PAGE}?restamped=${done.entity}:${done.restamped.length}:${done.unchanged.length}#regressions`;
    }),
  )
  // The data-live fragment: the progress element's new inner HTML.
  .get("/backfill/:entity/progress", (c) =>
    fragmentOrRefusal(c, async () => {
      const entity = replicated(c.req.param("entity"));
      return <BackfillProgress entity={entity.name} state={await getBackfill(c.get("deps").db, entity.name)} />;
    }),
  );
