// Cloudflare Queues (and workerd locally) refuse oversized sends with messages such as "Queue send
// failed: message length of 132008 bytes exceeds limit of 128000" or "Queue sendBatch failed: batch
// size of 360024 bytes exceeds limit of 288000" (HTTP 413). Those are about the messages: the same
// bytes are refused again. Anything else (network, 5xx, rate limit, a paused queue) is an outage to
// wait out, and must never be mistaken for a bad message.
// The message is all there is to go on: the Queue binding's send/sendBatch reject with a plain
// Error (no `code`, no HTTP status property), in workerd and in production alike.
const SIZE_REFUSAL = /exceeds (single message size )?limit|too large|\b413\b/i;

export function isQueueSizeRefusal(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return SIZE_REFUSAL.test(message);
}
