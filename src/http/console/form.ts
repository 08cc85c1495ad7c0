import type { AppContext } from "../context";
import { readBodyBytes } from "../read-json";

/**
 * The console's forms are a few short fields (a token, a name, a reason), so a body over 8 KiB is
 * refused (413 PAYLOAD_TOO_LARGE) before anything is parsed: an unauthenticated sign-in must not
 * make the worker buffer whatever it is sent.
 */
export const FORM_LIMIT_BYTES = 8 * 1024;

/**
 * The POSTed form (application/x-www-form-urlencoded, what the console's forms send), read once per
 * request and kept: the CSRF check and the handler both need it, and a body can be read only once.
 * A repeated field keeps its last value.
 */
export async function readForm(c: AppContext): Promise<Record<string, string>> {
  const cached = c.get("consoleForm");
  if (cached) return cached;
  const bytes = await readBodyBytes(c, FORM_LIMIT_BYTES);
  // The raw body stream is consumed now: hand the bytes to hono's body cache, so a handler that
  // reads the form its own way (c.req.parseBody(), c.req.formData()) still gets it.
  (c.req.bodyCache as Record<string, Promise<unknown>>).arrayBuffer = Promise.resolve(bytes.slice().buffer);
  const form = Object.fromEntries(new URLSearchParams(new TextDecoder().decode(bytes)));
  c.set("consoleForm", form);
  return form;
}
