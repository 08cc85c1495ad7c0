import { z } from "zod";

/**
 * What a consumer sends to a dead-letter queue: the original body plus why it failed.
 * Messages that Cloudflare itself moves to the DLQ (retries exhausted by a crash or timeout)
 * arrive as the bare original body instead.
 */
export const deadLetterSchema = z.object({
  kind: z.literal("dead-letter"),
  queue: z.string(),
  message_id: z.string(),
  attempts: z.number().int().nonnegative(),
  failed_at: z.string(),
  error: z.object({ code: z.string(), message: z.string(), retryable: z.boolean() }),
  event: z.unknown(),
});
export type DeadLetter = z.infer<typeof deadLetterSchema>;
