import { Hono } from "hono";
import { changeEmailStatus, getEmail, recordEmailSend } from "../../../producers/email-writes";
import { changeStatusSchema, recordSendSchema } from "../../../schemas/email-api";
import { uuid } from "../../../schemas/fields";
import { NotFoundError, ValidationError } from "../../../core/errors";
import { bearerAuth } from "../auth";
import type { AppContext, AppEnv } from "../context";
import { ok } from "../envelope";
import { readBody } from "../read-json";

function emailId(c: AppContext): string {
  const id = uuid().safeParse(c.req.param("id"));
  if (!id.success) throw new ValidationError("INVALID_REQUEST", "email id must be a UUID");
  return id.data;
}

/** The sending worker's API for emails (D1 is authoritative for them). */
export const emailRoutes = new Hono<AppEnv>()
  .use("*", bearerAuth("API_TOKEN"))
  .post("/", async (c) => {
    const input = await readBody(c, recordSendSchema);
    const result = await recordEmailSend(c.get("deps"), input, c.get("requestId"));
    return ok(c, result, 201);
  })
  .get("/:id", async (c) => {
    const email = await getEmail(c.get("deps").db, emailId(c));
    if (!email) throw new NotFoundError(`email ${c.req.param("id")} does not exist`);
    return ok(c, { email });
  })
  .patch("/:id", async (c) => {
    const id = emailId(c);
    const input = await readBody(c, changeStatusSchema);
    const result = await changeEmailStatus(c.get("deps"), id, input, c.get("requestId"));
    return ok(c, result);
  });
