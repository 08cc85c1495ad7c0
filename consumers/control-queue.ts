import type { JobDeps, JobTick } from "../src/services/replay-jobs";
import { kick, runJobTick } from "../src/services/replay-jobs";

/**
 * The control queue carries "work on replay job X" ticks. Each tick works for a bounded time and
 * queues the next one, so a long job runs as a chain of short invocations, survives restarts,
 * and never needs a runner that lives for hours. Duplicate ticks are harmless: the job's lease
 * lets one work and the others return at once.
 */
export async function consumeControlBatch(deps: JobDeps & { control: Queue }, batch: MessageBatch<unknown>): Promise<void> {
  for (const message of batch.messages) {
    const tick = message.body as Partial<JobTick>;
    if (tick?.kind !== "replay-job" || typeof tick.job_id !== "string") {
      console.error(JSON.stringify({ msg: "unknown control message dropped", body: message.body }));
      message.ack();
      continue;
    }
    try {
      const result = await runJobTick(deps, tick.job_id);
      if (result.next === "continue") await kick(deps.control, tick.job_id);
      if (result.next === "retry") await kick(deps.control, tick.job_id, 30);
      message.ack();
    } catch (error) {
      // D1 unavailable or similar: the tick comes back; the lease has been released or expires.
      console.error(JSON.stringify({ msg: "replay job tick failed", job_id: tick.job_id, error: String(error) }));
      message.retry({ delaySeconds: 30 });
    }
  }
}
