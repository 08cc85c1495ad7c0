import { describe, expect, it } from "vitest";
import { applyBatch } from "../core/apply-batch";
import { connectRest, restRpc } from "../core/stores/supabase-rest";
import { supabaseReplica } from "../core/stores/supabase-replica";
import { emailRow, upsertEvent } from "./support/fixtures";

// PostgREST (Supabase's HTTP API) cannot run here, so this transport is checked against a fake
// fetch: the request it makes and how it maps PostgREST's answers. The SQL it calls is the same
// function the postgres transport runs against a real server in the other tests.
function fakeFetch(respond: (url: string, init: RequestInit) => Response) {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input instanceof Request ? input.url : input);
    calls.push({ url, init: init ?? {} });
    return respond(url, init ?? {});
  }) as typeof fetch;
  return {
    calls,
    target: supabaseReplica(restRpc(connectRest("https://proj.supabase.co", "service-role-key", fetchImpl))),
  };
}

describe("supabase-js transport (.rpc over PostgREST)", () => {
  it("calls sync_apply_batch with the batch and maps the result", async () => {
    const event = upsertEvent("emails", emailRow());
    const { calls, target } = fakeFetch(() => Response.json([{ event_id: event.id, current_version: 1 }]));
    expect(await applyBatch(target, [event])).toEqual([{ kind: "applied" }]);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.url).toBe("https://proj.supabase.co/rest/v1/rpc/sync_apply_batch");
    const headers = new Headers(calls[0]!.init.headers);
    expect(headers.get("apikey")).toBe("service-role-key");
    expect(headers.get("authorization")).toBe("Bearer service-role-key");
    const body = JSON.parse(String(calls[0]!.init.body));
    expect(body.p_events[0]).toMatchObject({ id: event.id, entity: "emails", op: "upsert", version: 1 });
  });

  it("a Postgres error passed through by PostgREST is permanent; 503/504 from the gateway is transient", async () => {
    const event = upsertEvent("emails", emailRow());
    const fk = fakeFetch(() =>
      Response.json(
        {
          code: "23503",
          message: 'insert or update on table "emails" violates foreign key constraint',
          details: null,
          hint: null,
        },
        { status: 409 },
      ),
    );
    expect(await applyBatch(fk.target, [event])).toEqual([
      { kind: "failed", error: expect.objectContaining({ code: "FOREIGN_KEY_VIOLATION", retryable: false }) },
    ]);
    const down = fakeFetch(() => new Response("upstream unavailable", { status: 503 }));
    expect((await applyBatch(down.target, [event]))[0]).toMatchObject({ kind: "failed", error: { retryable: true } });
    const gateway = fakeFetch(() => new Response("gateway timeout", { status: 504 }));
    expect((await applyBatch(gateway.target, [event]))[0]).toMatchObject({
      kind: "failed",
      error: { retryable: true },
    });
  });
});
