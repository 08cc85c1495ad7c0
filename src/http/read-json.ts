import type { z } from "zod";
import { ValidationError } from "../lib/errors";
import { formatIssues } from "../lib/zod-issues";
import type { AppContext } from "./context";

/**
 * Reads a JSON body of at most `limitBytes`, refusing early on Content-Length and again on the
 * bytes actually received (a chunked body has no Content-Length).
 */
export async function readJson(c: AppContext, limitBytes: number): Promise<unknown> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > limitBytes) throw tooLarge(limitBytes);
  const buffer = await c.req.arrayBuffer();
  if (buffer.byteLength > limitBytes) throw tooLarge(limitBytes);
  if (buffer.byteLength === 0) throw new ValidationError("MALFORMED_JSON", "request body is empty");
  try {
    return JSON.parse(new TextDecoder().decode(buffer));
  } catch (error) {
    throw new ValidationError("MALFORMED_JSON", `request body is not JSON: ${(error as Error).message}`);
  }
}

export async function readBody<S extends z.ZodType>(c: AppContext, schema: S, limitBytes = 256 * 1024): Promise<z.infer<S>> {
  const parsed = schema.safeParse(await readJson(c, limitBytes));
  if (!parsed.success) throw new ValidationError("INVALID_REQUEST", formatIssues(parsed.error));
  return parsed.data;
}

function tooLarge(limit: number) {
  return new ValidationError("PAYLOAD_TOO_LARGE", `request body exceeds ${limit} bytes`, undefined, 413);
}

export function readQuery<S extends z.ZodType>(c: AppContext, schema: S): z.infer<S> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) throw new ValidationError("INVALID_REQUEST", formatIssues(parsed.error));
  return parsed.data;
}
