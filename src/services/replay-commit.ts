import { newEventId } from "../../schemas/event";
import { sendBatches } from "../../core/batching/send-batches";
import { describe } from "../../core/errors";
import { claimForReplay, recordReplayStatements, revertUnsentStatements } from "../../core/ledger/task-transitions";
import { isSend, type Decision, type ReplayOptions, type SendDecision } from "./replay-decide";

export interface ChunkResult {
  sent: SendDecision[];
  superseded: Decision[];
  skipped: Decision[];
  /** Decided "send" but the queue refused them; reverted, nothing of them was sent. */
  unsent: SendDecision[];
  error: string | null;
}

/**
 * Claims the tasks decided "send" (claimForReplay); one another replay claimed since it was read
 * becomes a skip (ALREADY_REPLAYING), so no task is sent by two replays. Then records the chunk's
 * decisions and sends. Recording first (tasks → replaying, history, the
 * caller's own rows such as job items, all in one D1 batch) is what makes a job send each task at
 * most once: a crash after the commit leaves a task "replaying" and never resends it. If the
 * queue refuses, the unsent part is reverted, so nothing is recorded as sent that was not.
 */
export async function commitAndSend(
  deps: { db: D1Database; queue: Queue },
  decisions: Decision[],
  opts: ReplayOptions,
  caller: {
    /** The caller's rows for the decisions as claimed (a lost claim is a skip by then). */
    commit: (decisions: Decision[]) => D1PreparedStatement[];
    revert: (unsent: Decision[]) => D1PreparedStatement[];
  },
): Promise<ChunkResult> {
  const db = deps.db;
  decisions = await claimSends(db, decisions);
  const result: ChunkResult = {
    sent: decisions.filter(isSend),
    superseded: decisions.filter((d) => d.outcome === "superseded"),
    skipped: decisions.filter((d) => d.outcome === "skipped"),
    unsent: [],
    error: null,
  };
  const historyIds = new Map(decisions.map((d) => [d.task.id, newEventId()]));
  const withHistory = <D extends Decision>(d: D) => ({ ...d, historyId: historyIds.get(d.task.id)! });
  // The ledger writes the tasks and their history; the caller's rows (audit, job items, counters)
  // follow in the same batch, so the record and the caller's rows commit together.
  await db.batch([
    ...recordReplayStatements(db, {
      sent: result.sent.map(withHistory),
      superseded: result.superseded.map((d) => withHistory(d as Exclude<Decision, SendDecision>)),
      now: opts.now,
      jobId: opts.jobId,
      actor: opts.actor,
      mode: opts.mode,
    }),
    ...caller.commit(decisions),
  ]);

  const batches = sendBatches(result.sent, (d) => d.event);
  for (let i = 0; i < batches.length; i++) {
    try {
      await deps.queue.sendBatch(batches[i]!.map((d) => ({ body: d.event, contentType: "json" as const })));
    } catch (error) {
      result.unsent = batches.slice(i).flat();
      result.error = `queue refused the replay: ${describe(error).message}`;
      break;
    }
  }
  if (result.unsent.length) {
    const unsentIds = new Set(result.unsent.map((d) => d.task.id));
    result.sent = result.sent.filter((d) => !unsentIds.has(d.task.id));
    await db.batch([...revertUnsentStatements(db, result.unsent.map(withHistory)), ...caller.revert(result.unsent)]);
  }
  return result;
}

async function claimSends(db: D1Database, decisions: Decision[]): Promise<Decision[]> {
  const sends = decisions.filter(isSend);
  const claimed = await claimForReplay(
    db,
    sends.map((d) => d.task),
  );
  if (claimed.size === sends.length) return decisions;
  return decisions.map((d) =>
    !isSend(d) || claimed.has(d.task.id)
      ? d
      : {
          task: d.task,
          outcome: "skipped",
          code: "ALREADY_REPLAYING",
          detail: "changed since it was read: another replay claimed it first (nothing sent twice)",
        },
  );
}
