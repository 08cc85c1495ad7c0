/** What the control queue carries: "work on replay job X". */
export interface JobTick {
  kind: "replay-job";
  job_id: string;
}

/** What one tick of a job reports: go on, stop, someone else holds the lease, or pause and retry. */
export type TickOutcome = { next: "continue" | "done" | "busy" } | { next: "retry"; error: string };

/**
 * The replay machinery, handed in by the worker shell (src/services/replay-jobs.ts): this consumer
 * only moves ticks along, so it needs no operator service of its own.
 */
export interface ControlDeps {
  runTick(jobId: string): Promise<TickOutcome>;
  kick(jobId: string, delaySeconds?: number): Promise<void>;
}

/**
 * The control queue carries "work on replay job X" ticks. Each tick works for a bounded time and
 * queues the next one, so a long job runs as a chain of short invocations, survives restarts,
 * and never needs a runner that lives for hours. Duplicate ticks are harmless: the job's lease
 * lets one work and the others return at once.
 */
export async function consumeControlBatch(deps: ControlDeps, batch: MessageBatch<unknown>): Promise<void> {
  for (const message of batch.messages) {
    const tick = message.body as Partial<JobTick>;
    if (tick?.kind !== "replay-job" || typeof tick.job_id !== "string") {
      console.error(JSON.stringify({ msg: "unknown control message dropped", body: message.body }));
      message.ack();
      continue;
    }
    try {
      const result = await deps.runTick(tick.job_id);
      if (result.next === "continue") await deps.kick(tick.job_id);
      if (result.next === "retry") await deps.kick(tick.job_id, 30);
      message.ack();
    } catch (error) {
      // D1 unavailable or similar: the tick comes back; the lease has been released or expires.
      console.error(JSON.stringify({ msg: "replay job tick failed", job_id: tick.job_id, error: String(error) }));
      message.retry({ delaySeconds: 30 });
    }
  }
}
