import type { z } from "zod";

/** One line naming each offending field: `stage: Invalid option; sent_at: must be …`. */
export function formatIssues(error: z.ZodError, limit = 5): string {
  const parts = error.issues.slice(0, limit).map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`);
  if (error.issues.length > limit) parts.push(`… ${error.issues.length - limit} more`);
  return parts.join("; ");
}
