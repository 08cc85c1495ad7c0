import type { Outcome, ErrorInfo } from "../core/apply-batch";

/**
 * The one place that decides ack / retry / dead-letter.
 *
 * Transient failures back off exponentially with jitter: 10 s, 20 s, 40 s … capped at 15 min,
 * each delay drawn from [d/2, d]. With `maxRetries` 100 (the Cloudflare maximum; wrangler.toml
 * must declare the same value, a test checks it) a message survives at least ~11.8 h of
 * continuous failure (~17.7 h on average) before it is dead-lettered, and after an outage ends
 * every message is retried within 15 minutes. Permanent failures dead-letter at once.
 */
export const RETRY_POLICY = { maxRetries: 100, baseDelaySeconds: 10, maxDelaySeconds: 900 } as const;

export type Decision =
  { action: "ack" } | { action: "retry"; delaySeconds: number } | { action: "dead-letter"; error: ErrorInfo };

/** `attempts` is the delivery count of the message, starting at 1 (Message.attempts). */
export function decide(outcome: Outcome, attempts: number, random: () => number = Math.random): Decision {
  if (outcome.kind !== "failed") return { action: "ack" };
  if (!outcome.error.retryable) return { action: "dead-letter", error: outcome.error };
  if (attempts > RETRY_POLICY.maxRetries) {
    // This is the last delivery Cloudflare will make. Dead-letter it ourselves so the reason
    // travels with it; a DLQ message moved by Cloudflare carries none.
    return {
      action: "dead-letter",
      error: { ...outcome.error, message: `gave up after ${attempts} deliveries: ${outcome.error.message}` },
    };
  }
  // An open circuit says when the store will be tried again: coming back earlier only spends an attempt.
  const notBefore = Math.min(outcome.error.retryAfterSeconds ?? 0, MAX_QUEUE_DELAY_SECONDS);
  return { action: "retry", delaySeconds: Math.max(retryDelaySeconds(attempts, random), notBefore) };
}

/** Cloudflare Queues accept retry delays up to 12 hours. */
const MAX_QUEUE_DELAY_SECONDS = 43_200;

export function retryDelaySeconds(attempts: number, random: () => number = Math.random): number {
  const ceiling = Math.min(
    RETRY_POLICY.maxDelaySeconds,
    RETRY_POLICY.baseDelaySeconds * 2 ** Math.max(0, attempts - 1),
  );
  return Math.max(1, Math.round(ceiling / 2 + (random() * ceiling) / 2));
}
