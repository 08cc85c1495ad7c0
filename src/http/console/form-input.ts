import type { z } from "zod";
import { ValidationError } from "../../../core/errors";
import { formatIssues } from "../../../core/zod-issues";

/**
 * Validates what a console form sent with the operator API's own schema (schemas/operator-api.ts),
 * refusing as readBody does for JSON (INVALID_REQUEST, the offending fields named): the page and
 * the API accept and refuse exactly the same input.
 */
export function parseForm<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new ValidationError("INVALID_REQUEST", formatIssues(parsed.error));
  return parsed.data;
}

/** A text field as typed, or undefined when left empty (an empty filter field means "any"). */
export function field(form: Record<string, unknown>, name: string): string | undefined {
  const value = form[name];
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

/**
 * A free-text field exactly as sent ("" when absent), for the schema to judge: a blank reason then
 * fails the schema's own "say why" rule rather than "expected string".
 */
export function text(form: Record<string, unknown>, name: string): string {
  const value = form[name];
  return typeof value === "string" ? value : "";
}
