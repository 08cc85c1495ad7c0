import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { WEBHOOK_BODY_LIMIT } from "../src/http/routes/webhooks";
import { SECRETS, webhookPayload } from "./support/helpers";

/** A body sent in chunks with no Content-Length, counting how much of it the worker pulled. */
function chunkedBody(chunks: Uint8Array[]) {
  const state = { pulled: 0, cancelled: false };
  let i = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i === chunks.length) return controller.close();
      state.pulled++;
      controller.enqueue(chunks[i++]!);
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

const post = (body: ReadableStream<Uint8Array>) =>
  SELF.fetch("https://worker.test/webhooks/supabase", {
    method: "POST",
    headers: { authorization: `Bearer ${SECRETS.webhook}`, "content-type": "application/json" },
    body,
  });

describe("request bodies without Content-Length are limited while they stream", () => {
  it("refuses a chunked body with 413 PAYLOAD_TOO_LARGE as soon as it passes the limit, without reading the rest", async () => {
    const chunk = new Uint8Array(64 * 1024).fill(0x20); // JSON whitespace
    const total = 512; // 32 MiB in all, 64 times the webhook limit
    const { stream, state } = chunkedBody(Array.from({ length: total }, () => chunk));
    const res = await post(stream);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ success: false, error: { code: "PAYLOAD_TOO_LARGE", retryable: false } });
    // The limit is 8 chunks; allow for what the runtime buffers ahead, far short of the whole body.
    expect(state.pulled).toBeLessThan(WEBHOOK_BODY_LIMIT / chunk.byteLength + 32);
  });

  it("accepts a chunked body under the limit", async () => {
    const text = JSON.stringify(webhookPayload("DELETE", "prospects", null, { id: crypto.randomUUID(), version: 1 }));
    const bytes = new TextEncoder().encode(text);
    const pieces = [bytes.slice(0, 10), bytes.slice(10, 40), bytes.slice(40)];
    const { stream } = chunkedBody(pieces);
    const res = await post(stream);
    expect(res.status).toBe(202);
  });
});
