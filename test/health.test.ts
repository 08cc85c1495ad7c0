import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { call, envWithSupabaseExhausted, SECRETS } from "./support/helpers";

const ctx = { waitUntil: () => {}, passThroughOnException: () => {}, props: {} } as unknown as ExecutionContext;

describe("GET /health (public liveness)", () => {
  it("answers healthy in the envelope, and nothing about the stores", async () => {
    const res = await call("GET", "/health");
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ success: true, data: { status: "healthy", version: expect.any(String) } });
    expect(Object.keys(res.json.data).sort()).toEqual(["status", "version"]);
    expect(res.json.meta.requestId).toMatch(/^req_/);
  });

  it("answers 503 degraded without the store's error text (it names hosts and roles)", async () => {
    const res = await worker.fetch!(
      new Request("https://worker.test/health") as never,
      envWithSupabaseExhausted(),
      ctx,
    );
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text).data).toEqual({ status: "degraded", version: expect.any(String) });
    expect(text).not.toMatch(/sds_test_exhausted|127\.0\.0\.1|connection/i);
  });

  it("unknown routes get the envelope with NOT_FOUND", async () => {
    const res = await SELF.fetch("https://worker.test/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ success: false, error: { code: "NOT_FOUND", retryable: false } });
  });
});

describe("GET /v1/admin/health (operators)", () => {
  it("needs the admin token", async () => {
    expect((await call("GET", "/v1/admin/health")).status).toBe(401);
    expect((await call("GET", "/v1/admin/health", { token: SECRETS.api })).status).toBe(401);
  });

  it("reports each store, its latency and the circuits", async () => {
    const res = await call("GET", "/v1/admin/health", { token: SECRETS.admin });
    expect(res.status).toBe(200);
    expect(res.json.data).toMatchObject({
      status: "healthy",
      dependencies: { d1: { status: "healthy" }, supabase: { status: "healthy" } },
      circuits: { d1: expect.any(String), supabase: expect.any(String) },
    });
  });

  it("answers 503 degraded, naming the store that is down and why", async () => {
    const request = new Request("https://worker.test/v1/admin/health", {
      headers: { authorization: `Bearer ${SECRETS.admin}` },
    });
    const res = await worker.fetch!(request as never, envWithSupabaseExhausted(), ctx);
    expect(res.status).toBe(503);
    const body = (await res.json()) as {
      data: { status: string; dependencies: Record<string, { status: string; error?: string }> };
    };
    expect(body.data.status).toBe("degraded");
    expect(body.data.dependencies.d1!.status).toBe("healthy");
    expect(body.data.dependencies.supabase).toMatchObject({ status: "down" });
    expect(body.data.dependencies.supabase!.error).toBeTruthy();
  });
});
