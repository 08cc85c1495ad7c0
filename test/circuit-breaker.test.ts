import { describe, expect, it } from "vitest";
import postgres from "postgres";
import { applyBatch, type ReplicaTarget } from "../core/apply-batch";
import { guardedTarget } from "../consumers/guarded-target";
import { CircuitBreaker } from "../core/circuit-breaker";
import { postgresRpc } from "../core/stores/supabase-postgres";
import { supabaseReplica } from "../core/stores/supabase-replica";
import { emailRow, upsertEvent } from "./support/fixtures";
import { envWithSupabaseExhausted, pg } from "./support/helpers";

/** Counts the calls that reach the real store behind the breaker. */
function counted(target: ReplicaTarget) {
  const counter = { calls: 0 };
  return {
    counter,
    target: {
      store: target.store,
      apply: (e: Parameters<ReplicaTarget["apply"]>[0]) => (counter.calls++, target.apply(e)),
    },
  };
}

describe("circuit breaker shared by the batches of an isolate", () => {
  it("opens after 3 transient failures, fails fast while open, lets one trial through, closes on success", () => {
    let now = 0;
    const b = new CircuitBreaker("X", { threshold: 3, openMs: 1000, now: () => now });
    b.failure();
    b.failure();
    expect(b.state).toBe("closed");
    b.failure();
    expect(b.state).toBe("open");
    expect(b.allows()).toBe(false);
    now = 1000;
    expect(b.state).toBe("half-open");
    expect(b.allows()).toBe(true);
    expect(b.allows()).toBe(false); // one trial at a time
    b.failure();
    expect(b.state).toBe("open"); // the trial failed: open again for a full period
    now = 2000;
    expect(b.allows()).toBe(true);
    b.success();
    expect(b.state).toBe("closed");
  });

  it("stops calling Supabase while it is down, then resumes", async () => {
    let now = 0;
    const breaker = new CircuitBreaker("Supabase", { threshold: 3, openMs: 30_000, now: () => now });
    const down = counted(
      supabaseReplica(
        postgresRpc(postgres(envWithSupabaseExhausted().HYPERDRIVE!.connectionString, { max: 1, fetch_types: false })),
      ),
    );
    const guarded = guardedTarget(down.target, breaker);
    const event = upsertEvent("emails", emailRow());
    for (let i = 0; i < 3; i++) {
      const [o] = await applyBatch(guarded, [event]);
      expect(o).toMatchObject({ kind: "failed", error: { code: "SUPABASE_UNAVAILABLE", retryable: true } });
    }
    const [fast] = await applyBatch(guarded, [event]);
    expect(fast).toMatchObject({
      kind: "failed",
      error: { code: "CIRCUIT_OPEN", retryable: true, retryAfterSeconds: 30 },
    });
    expect(down.counter.calls).toBe(3);

    // Supabase is back: after the open period one trial goes through and closes the circuit.
    now = 30_000;
    const [prospect] = await pg()`insert into prospects (name) values ('Breaker') returning id`;
    const up = counted(supabaseReplica(postgresRpc(pg())));
    const recovered = guardedTarget(up.target, breaker);
    const [ok] = await applyBatch(recovered, [upsertEvent("emails", emailRow({ prospect_id: prospect!.id }))]);
    expect(ok).toEqual({ kind: "applied" });
    expect(breaker.state).toBe("closed");
  });

  it("a permanent error does not count against the store: it answered", async () => {
    const breaker = new CircuitBreaker("Supabase", { threshold: 1 });
    const guarded = guardedTarget(supabaseReplica(postgresRpc(pg())), breaker);
    const [fk] = await applyBatch(guarded, [upsertEvent("emails", emailRow())]); // unknown prospect
    expect(fk).toMatchObject({ kind: "failed", error: { code: "FOREIGN_KEY_VIOLATION" } });
    expect(breaker.state).toBe("closed");
  });
});
