import type { z } from "zod";
import { ValidationError } from "../../core/errors";
import { formatIssues } from "../../core/zod-issues";
import type { AppContext } from "./context";

/**
 * Reads a JSON body of at most `limitBytes`, refusing early on Content-Length and otherwise while
 * the bytes arrive: a chunked body has no Content-Length, and buffering it whole before checking
 * would let one request hold any amount of memory. The read stops (and the rest of the body is
 * cancelled) as soon as the limit is passed.
 */
export async function readJson(c: AppContext, limitBytes: number): Promise<unknown> {
  const bytes = await readBodyBytes(c, limitBytes);
  if (bytes.byteLength === 0) throw new ValidationError("MALFORMED_JSON", "request body is empty");
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new ValidationError("MALFORMED_JSON", `request body is not JSON: ${(error as Error).message}`);
  }
}

/** The request body, at most `limitBytes` (PAYLOAD_TOO_LARGE, 413, before reading more). Also the console's forms. */
export async function readBodyBytes(c: AppContext, limitBytes: number): Promise<Uint8Array> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > limitBytes) throw tooLarge(limitBytes);
  return readLimited(c.req.raw.body, limitBytes);
}

async function readLimited(body: ReadableStream<Uint8Array> | null, limitBytes: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limitBytes) {
      // Nothing more of this body is wanted; the sender sees the connection's read side close.
      await reader.cancel().catch(() => {});
      throw tooLarge(limitBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

export async function readBody<S extends z.ZodType>(
  c: AppContext,
  schema: S,
  limitBytes = 256 * 1024,
): Promise<z.infer<S>> {
  return parseRequest(schema, await readJson(c, limitBytes));
}

/** A request's fields checked against the route's schema, or INVALID_REQUEST naming each bad field. Also the console's forms. */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ValidationError("INVALID_REQUEST", formatIssues(parsed.error));
  return parsed.data;
}

function tooLarge(limit: number) {
  return new ValidationError("PAYLOAD_TOO_LARGE", `request body exceeds ${limit} bytes`, undefined, 413);
}

export function readQuery<S extends z.ZodType>(c: AppContext, schema: S): z.infer<S> {
  return parseRequest(schema, c.req.query());
}
