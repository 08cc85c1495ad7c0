import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import wranglerToml from "../wrangler.toml?raw";
import { applyBatch } from "../core/apply-batch";
import { decide, RETRY_POLICY, retryDelaySeconds } from "../consumers/retry-policy";
import { postgresRpc } from "../core/stores/supabase-postgres";
import { supabaseReplica } from "../core/stores/supabase-replica";
import postgres from "postgres";
import { deliver, emailRow, upsertEvent } from "./support/fixtures";
import { envWithSupabaseExhausted, pg, waitFor } from "./support/helpers";

const supabaseDown = envWithSupabaseExhausted();

describe("transient failures are retried with backoff, never dead-lettered early", () => {
  it("Supabase down: every message of the batch is retried with a delay, nothing reaches failed_tasks", async () => {
    const events = [upsertEvent("emails", emailRow()), upsertEvent("emails", emailRow())];
    const { result, ids, delays } = await deliver("to-supabase", events, { env: supabaseDown, attempts: 3 });
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((m: { msgId: string }) => m.msgId).sort()).toEqual([...ids].sort());
    for (const id of ids) {
      expect(delays.get(id)).toBeGreaterThanOrEqual(20); // attempt 3: ceiling 40 s, drawn from [20, 40]
      expect(delays.get(id)).toBeLessThanOrEqual(40);
    }
    const tasks = await env.DB.prepare("SELECT count(*) AS n FROM failed_tasks WHERE row_id IN (?1, ?2)")
      .bind(events[0]!.key.id, events[1]!.key.id)
      .first<{ n: number }>();
    expect(tasks!.n).toBe(0);
  });

  it("the same batch applies once Supabase is back", async () => {
    const [prospect] = await pg()`insert into prospects (name) values ('Back online') returning id`;
    const event = upsertEvent("emails", emailRow({ prospect_id: prospect!.id }));
    const down = await deliver("to-supabase", [event], { env: supabaseDown });
    expect(down.result.retryMessages).toHaveLength(1);
    const up = await deliver("to-supabase", [event], { attempts: 2 });
    expect(up.result.explicitAcks).toEqual(up.ids);
  });

  it("the classification is by cause: too many connections is transient, a constraint is permanent", async () => {
    const exhausted = supabaseReplica(
      postgresRpc(postgres(supabaseDown.HYPERDRIVE!.connectionString, { max: 1, fetch_types: false })),
    );
    const [down] = await applyBatch(exhausted, [upsertEvent("emails", emailRow())]);
    expect(down).toMatchObject({ kind: "failed", error: { code: "SUPABASE_UNAVAILABLE", retryable: true } });
    expect(down!.kind === "failed" && down!.error.message).toMatch(/53300/);
    const [fk] = await applyBatch(supabaseReplica(postgresRpc(pg())), [upsertEvent("emails", emailRow())]);
    expect(fk).toMatchObject({ kind: "failed", error: { code: "FOREIGN_KEY_VIOLATION", retryable: false } });
  });

  it("on the last delivery Cloudflare will make, a transient failure is dead-lettered with its reason", async () => {
    const event = upsertEvent("emails", emailRow());
    const { result } = await deliver("to-supabase", [event], {
      env: supabaseDown,
      attempts: RETRY_POLICY.maxRetries + 1,
    });
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(1);
    const task = await waitFor(
      () =>
        env.DB.prepare("SELECT error_code, error_message, retryable, attempts FROM failed_tasks WHERE row_id = ?1")
          .bind(event.key.id)
          .first(),
      "failed task with the outage as its reason",
      15_000,
    );
    expect(task).toMatchObject({
      error_code: "SUPABASE_UNAVAILABLE",
      retryable: 1,
      attempts: RETRY_POLICY.maxRetries + 1,
    });
    expect(task.error_message).toMatch(/gave up after 101 deliveries: .*53300/);
  });
});

describe("retry policy", () => {
  it("backs off exponentially with jitter, capped at 15 minutes", () => {
    expect(retryDelaySeconds(1, () => 0)).toBe(5);
    expect(retryDelaySeconds(1, () => 1)).toBe(10);
    expect(retryDelaySeconds(4, () => 1)).toBe(80);
    expect(retryDelaySeconds(30, () => 1)).toBe(900);
    expect(retryDelaySeconds(30, () => 0)).toBe(450);
  });

  it("rides out an outage of more than 11 hours before dead-lettering (the shortest possible schedule)", () => {
    let total = 0;
    for (let attempt = 1; attempt <= RETRY_POLICY.maxRetries; attempt++) total += retryDelaySeconds(attempt, () => 0);
    expect(total / 3600).toBeGreaterThan(11);
  });

  it("acks applied and stale, retries transient, dead-letters permanent at once", () => {
    const transient = {
      kind: "failed" as const,
      error: { code: "SUPABASE_UNAVAILABLE" as const, message: "m", retryable: true },
    };
    const permanent = {
      kind: "failed" as const,
      error: { code: "SCHEMA_VIOLATION" as const, message: "m", retryable: false },
    };
    expect(decide({ kind: "applied" }, 1)).toEqual({ action: "ack" });
    expect(decide({ kind: "stale" }, 7)).toEqual({ action: "ack" });
    expect(decide(transient, 1).action).toBe("retry");
    expect(decide(transient, RETRY_POLICY.maxRetries).action).toBe("retry");
    expect(decide(transient, RETRY_POLICY.maxRetries + 1).action).toBe("dead-letter");
    expect(decide(permanent, 1)).toEqual({ action: "dead-letter", error: permanent.error });
  });

  it("does not come back before an open circuit lets a trial through", () => {
    const open = {
      kind: "failed" as const,
      error: { code: "CIRCUIT_OPEN" as const, message: "m", retryable: true, retryAfterSeconds: 27 },
    };
    expect(decide(open, 1, () => 0)).toEqual({ action: "retry", delaySeconds: 27 }); // backoff alone would say 5
    expect(decide(open, 8, () => 1)).toEqual({ action: "retry", delaySeconds: 900 }); // backoff already longer
  });

  it("wrangler.toml declares the same max_retries for both work queues", () => {
    const declared = [...wranglerToml.matchAll(/queue = "(to-d1|to-supabase)"\n(?:.*\n)*?max_retries = (\d+)/g)].map(
      (m) => [m[1], Number(m[2])],
    );
    expect(declared).toEqual([
      ["to-d1", RETRY_POLICY.maxRetries],
      ["to-supabase", RETRY_POLICY.maxRetries],
    ]);
  });
});
