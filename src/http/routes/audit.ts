import { Hono } from "hono";
import { listAuditQuery } from "../../../schemas/operator-api";
import { listAudit } from "../../services/audit";
import { bearerAuth } from "../auth";
import type { AppEnv } from "../context";
import { ok } from "../envelope";
import { readQuery } from "../read-json";

/** Every operator action: who, when, why, what it selected. */
export const auditRoutes = new Hono<AppEnv>()
  .use("*", bearerAuth("ADMIN_TOKEN"))
  .get("/", async (c) => ok(c, await listAudit(c.env.DB, readQuery(c, listAuditQuery))));
