import { Hono } from "hono";
import {
  createOperatorTokenBody,
  listOperatorTokensQuery,
  revokeOperatorTokenBody,
} from "../../../schemas/operator-api";
import { createOperatorToken, listOperatorTokens, revokeOperatorToken } from "../../services/operator-tokens";
import { adminAuth } from "../admin-auth";
import type { AppEnv } from "../context";
import { ok } from "../envelope";
import { operatorOf } from "../operator";
import { readBody, readQuery } from "../read-json";

/**
 * Per-operator tokens: create (the token is in this one response only), list (never a secret or
 * hash), revoke. Writable with the shared admin token even under REQUIRE_OPERATOR_TOKENS: that is
 * how the first operators get their tokens.
 */
export const operatorTokenRoutes = new Hono<AppEnv>()
  .use("*", adminAuth({ sharedTokenMayChange: true }))
  .post("/", async (c) => {
    const actor = operatorOf(c);
    const body = await readBody(c, createOperatorTokenBody);
    const created = await createOperatorToken(c.get("deps").db, body, actor, new Date());
    // The response holds a secret: no cache or proxy on the way may keep a copy.
    c.header("cache-control", "no-store");
    return ok(c, created, 201);
  })
  .get("/", async (c) =>
    ok(c, { items: await listOperatorTokens(c.get("deps").db, readQuery(c, listOperatorTokensQuery), new Date()) }),
  )
  .post("/:id/revoke", async (c) => {
    const actor = operatorOf(c);
    const { reason } = await readBody(c, revokeOperatorTokenBody);
    return ok(c, {
      token: await revokeOperatorToken(c.get("deps").db, c.req.param("id"), { actor, reason }, new Date()),
    });
  });
