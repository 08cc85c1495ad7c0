import { Hono } from "hono";
import { listAuditQuery } from "../../../schemas/operator-api";
import { listAudit } from "../../services/audit";
import { adminAuth } from "../admin-auth";
import type { AppEnv } from "../context";
import { ok } from "../envelope";
import { readQuery } from "../read-json";

/** Every operator action: who, when, why, what it selected. */
export const auditRoutes = new Hono<AppEnv>()
  .use("*", adminAuth())
  .get("/", async (c) => ok(c, await listAudit(c.get("deps").db, readQuery(c, listAuditQuery))));
