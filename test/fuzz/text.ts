import type { z } from "zod";
import { RawJson } from "./odd-values";

export function formatIssuesPlain(error: z.ZodError, limit = 4): string {
  return error.issues
    .slice(0, limit)
    .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
    .join("; ");
}

/** The first issue's path: findings with the same path are one finding. */
export function firstIssuePath(error: z.ZodError): string {
  return error.issues[0]?.path.join(".") || "(root)";
}

/**
 * A case or row as one readable line: long strings shortened to what they are made of
 * (`"é"×100000`), invisible characters escaped (JSON does that), raw JSON tokens shown as such.
 */
export function compact(value: unknown, max = 700): string {
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof RawJson) return v.toJSON();
    if (typeof v === "string" && v.length > 80) {
      const unit = [...new Set(Array.from(v))];
      if (unit.length <= 2 && v.length > 200)
        return `<${JSON.stringify(unit.join("")).slice(1, -1)} repeated, ${v.length} UTF-16 units>`;
      return `${v.slice(0, 60)}…<${v.length} UTF-16 units>`;
    }
    return v;
  });
  if (text === undefined) return String(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
