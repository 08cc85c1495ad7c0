import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { call, envWithSupabaseExhausted } from "./support/helpers";

describe("GET /health", () => {
  it("reports both stores healthy in the envelope", async () => {
    const res = await call("GET", "/health");
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      success: true,
      data: { status: "healthy", dependencies: { d1: { status: "healthy" }, supabase: { status: "healthy" } } },
    });
    expect(res.json.meta.requestId).toMatch(/^req_/);
  });

  it("answers 503 degraded, naming the store that is down", async () => {
    const down = envWithSupabaseExhausted();
    const ctx = { waitUntil: () => {}, passThroughOnException: () => {}, props: {} } as unknown as ExecutionContext;
    const res = await worker.fetch!(new Request("https://worker.test/health") as never, down, ctx);
    expect(res.status).toBe(503);
    const body = (await res.json()) as any;
    expect(body.data.status).toBe("degraded");
    expect(body.data.dependencies.d1.status).toBe("healthy");
    expect(body.data.dependencies.supabase).toMatchObject({ status: "down" });
    expect(body.data.dependencies.supabase.error).toBeTruthy();
  });

  it("unknown routes get the envelope with NOT_FOUND", async () => {
    const res = await SELF.fetch("https://worker.test/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ success: false, error: { code: "NOT_FOUND", retryable: false } });
  });
});
