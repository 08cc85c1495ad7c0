/** What the control queue carries: "work on replay job X". */
export interface JobTick {
  kind: "replay-job";
  job_id: string;
}

/** "Go on with HubSpot full sync session X" (src/services/hubspot-sync.ts). */
export interface SessionTick {
  kind: "hubspot-sync";
  session_id: string;
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
  /** A HubSpot full sync's next bounded step; absent, its ticks wait (retried) for a shell that has it. */
  syncStep?(sessionId: string): Promise<{ next: "continue" | "done" | "busy" }>;
  kickSync?(sessionId: string, delaySeconds?: number): Promise<void>;
}

/**
 * The control queue carries "work on replay job X" ticks. Each tick works for a bounded time and
 * queues the next one, so a long job runs as a chain of short invocations, survives restarts,
 * and never needs a runner that lives for hours. Duplicate ticks are harmless: the job's lease
 * lets one work and the others return at once.
 */
export async function consumeControlBatch(deps: ControlDeps, batch: MessageBatch<unknown>): Promise<void> {
  for (const message of batch.messages) {
    const session = message.body as Partial<SessionTick>;
    if (session?.kind === "hubspot-sync" && typeof session.session_id === "string") {
      await consumeSessionTick(deps, message, session.session_id);
      continue;
    }
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

/**
 * A full sync step, then the next tick. Busy (another step holds the session's lease) and done
 * end this chain; the holder continues. A failure (HubSpot or Supabase unavailable) retries the
 * tick: the step re-reads from the session's recorded cursor.
 */
async function consumeSessionTick(deps: ControlDeps, message: Message<unknown>, sessionId: string): Promise<void> {
  if (!deps.syncStep || !deps.kickSync) {
    message.retry({ delaySeconds: 60 });
    return;
  }
  try {
    const result = await deps.syncStep(sessionId);
    if (result.next === "continue") await deps.kickSync(sessionId);
    message.ack();
  } catch (error) {
    console.error(JSON.stringify({ msg: "hubspot sync step failed", session_id: sessionId, error: String(error) }));
    message.retry({ delaySeconds: 30 });
  }
}
