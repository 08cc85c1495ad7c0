import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { GROUP_STATUSES, TASK_STATUSES, type GroupStatus, type TaskStatus } from "../schemas/operator-api";
import { transitionPairs, type StateMachine } from "../schemas/state-machine";
import { GROUP_MOVES, groupStatusMachine } from "../core/ledger/group-status";
import { changeGroupStatusStatement } from "../core/ledger/group-transitions";
import { failureRow, insertFailedTasks } from "../core/ledger/record-failures";
import { settleGroupsStatement } from "../core/ledger/settle-groups";
import { movePairs, namedMoves, type Moves } from "../core/ledger/status-moves";
import {
  SETTLED_TASK_STATUSES,
  TASK_MOVES,
  taskStatusMachine,
  UNSETTLED_TASK_STATUSES,
} from "../core/ledger/task-status";
import { claimForReplay, settleReplayStatements } from "../core/ledger/task-transitions";
import { utcNow } from "../core/utc";
import { prospectEvent, taskOfEvent } from "./support/operator";

// The machines as the SQL of the ledger made them when they were declared: a move added to or
// removed from the machine, a named transition or this table alone fails here.
const TASK_TABLE = [
  "open>quarantined",
  "open>replaying",
  "open>superseded",
  "quarantined>open",
  "quarantined>replaying",
  "quarantined>superseded",
  "replaying>open",
  "replaying>quarantined",
  "replaying>resolved",
  "replaying>superseded",
  "resolved>open",
  "resolved>quarantined",
  "superseded>open",
  "superseded>quarantined",
];
const GROUP_TABLE = GROUP_STATUSES.flatMap((from) =>
  GROUP_STATUSES.filter((to) => to !== from).map((to) => `${from}>${to}`),
).sort();

const pairs = (list: Array<[string, string]>) => [...new Set(list.map(([a, b]) => `${a}>${b}`))].sort();
const madeBy = (moves: Record<string, Moves<string>>) => pairs(Object.values(moves).flatMap((m) => movePairs(m)));

describe("ledger status machines", () => {
  it("failed_tasks.status: the declared machine, and every move made by a named transition and no other", () => {
    expect(Object.keys(taskStatusMachine.transitions).sort()).toEqual([...TASK_STATUSES].sort());
    expect(pairs(transitionPairs(taskStatusMachine))).toEqual(TASK_TABLE);
    expect(madeBy(TASK_MOVES)).toEqual(TASK_TABLE);
    expect([...SETTLED_TASK_STATUSES].sort()).toEqual(["resolved", "superseded"]);
    expect([...UNSETTLED_TASK_STATUSES].sort()).toEqual(["open", "quarantined", "replaying"]);
  });

  it("failure_groups.status: the declared machine, and every move made by a named transition and no other", () => {
    expect(Object.keys(groupStatusMachine.transitions).sort()).toEqual([...GROUP_STATUSES].sort());
    expect(pairs(transitionPairs(groupStatusMachine))).toEqual(GROUP_TABLE);
    expect(madeBy(GROUP_MOVES)).toEqual(GROUP_TABLE);
    expect(pairs(movePairs(GROUP_MOVES.failedAgain))).toEqual(["resolved>open"]);
    expect(pairs(movePairs(GROUP_MOVES.settled))).toEqual(["acknowledged>resolved", "open>resolved"]);
  });

  it("a named transition making a move its machine does not declare is refused when declared", () => {
    const machine: StateMachine<"a" | "b"> = { field: "t.status", transitions: { a: ["b"], b: [] } };
    expect(namedMoves(machine, { fine: { from: ["a", "b"], to: ["b"] } }).fine.to).toEqual(["b"]);
    expect(() => namedMoves(machine, { back: { from: ["b"], to: ["a"] } })).toThrow(/back moves b → a/);
  });

  it("an operator's group change: the same status is NO_CHANGE, every other move is a statement", () => {
    const now = utcNow();
    for (const from of GROUP_STATUSES) {
      for (const to of GROUP_STATUSES) {
        const change = () =>
          changeGroupStatusStatement(env.DB, { id: "g", from, to, by: "alice", reason: "test", now });
        if (from === to) expect(change).toThrow(/already/);
        else expect(change).not.toThrow();
      }
    }
  });
});

// The SQL follows the machine: each transition, run from every status, moves exactly the rows the
// machine lets it move (real D1).
let seq = 0;
const word = () => Array.from({ length: 12 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join("");

/** Records a failure of `event`; each call is a new delivery. Its group is one per `cause`. */
async function fail(event: { id: string }, cause: string) {
  const row = failureRow({
    queue: "to-d1",
    event,
    error_code: "LEDGER_STATUS_TEST",
    error_message: `ledger status ${cause}`,
    retryable: 0,
    attempts: 1,
    last_message_id: `ledger-status-${++seq}-${word()}`,
    failed_at: utcNow(),
  });
  await insertFailedTasks(env.DB, [row], { quarantineAfter: 3 });
  return (await taskOfEvent(event.id))!;
}

async function setTask(id: string, status: TaskStatus, replayCount = 0) {
  await env.DB.prepare("UPDATE failed_tasks SET status = ?2, replay_count = ?3 WHERE id = ?1")
    .bind(id, status, replayCount)
    .run();
}
async function setGroup(id: string, status: GroupStatus) {
  await env.DB.prepare("UPDATE failure_groups SET status = ?2 WHERE id = ?1").bind(id, status).run();
}
const taskStatus = async (id: string) =>
  (await env.DB.prepare("SELECT status FROM failed_tasks WHERE id = ?1").bind(id).first<{ status: string }>())!.status;
const groupStatus = async (id: string) =>
  (await env.DB.prepare("SELECT status FROM failure_groups WHERE id = ?1").bind(id).first<{ status: string }>())!
    .status;

describe("ledger transitions move exactly what the machines allow", () => {
  it("settle: only a replaying task is resolved, with a history line", async () => {
    for (const status of TASK_STATUSES) {
      const event = prospectEvent();
      const task = await fail(event, word());
      await setTask(task.id, status);
      const settled = [
        {
          task_id: task.id,
          kind: "resolved" as const,
          event_id: event.id,
          job_id: null,
          mode: "original",
          by: "alice",
          key: `k-${word()}`,
        },
      ];
      await env.DB.batch(settleReplayStatements(env.DB, "to-d1", settled, utcNow()));
      const moves = TASK_MOVES.settle.from.includes(status);
      expect(await taskStatus(task.id), status).toBe(moves ? "resolved" : status);
      const lines = await env.DB.prepare(
        "SELECT count(*) AS n FROM failed_task_history WHERE event_id = ?1 AND kind = 'resolved'",
      )
        .bind(event.id)
        .first<{ n: number }>();
      expect(lines!.n, status).toBe(moves ? 1 : 0);
    }
  });

  it("claim: a task is claimed from the statuses a replay starts from, and only as it was read (status and replay count)", async () => {
    const claim = async (id: string, status: TaskStatus, replay_count: number) =>
      (await claimForReplay(env.DB, [{ id, status, replay_count }])).has(id);
    for (const status of TASK_STATUSES) {
      const task = await fail(prospectEvent(), word());
      await setTask(task.id, status);
      if (!TASK_MOVES.replay.from.includes(status)) {
        await expect(claim(task.id, status, 0)).rejects.toThrow(/cannot move/);
        expect(await taskStatus(task.id)).toBe(status);
        continue;
      }
      const other = TASK_MOVES.replay.from.find((s) => s !== status)!;
      expect(await claim(task.id, other, 0), `${status} read as ${other}`).toBe(false);
      expect(await claim(task.id, status, 1), `${status} read with another replay count`).toBe(false);
      expect(await claim(task.id, status, 0), status).toBe(true);
      expect(await taskStatus(task.id)).toBe("replaying");
      // A second claim from the same read (two overrides of a task already replaying) loses:
      // the first moved the count on.
      expect(await claim(task.id, status, 0), `${status} claimed twice`).toBe(false);
      const row = await env.DB.prepare("SELECT replay_count FROM failed_tasks WHERE id = ?1")
        .bind(task.id)
        .first<{ replay_count: number }>();
      expect(row!.replay_count).toBe(1);
    }
    // Several at once: only those still as read are claimed.
    const [a, b] = [await fail(prospectEvent(), word()), await fail(prospectEvent(), word())];
    const claimed = await claimForReplay(env.DB, [
      { id: a.id, status: "open", replay_count: 0 },
      { id: b.id, status: "open", replay_count: 3 },
    ]);
    expect([...claimed]).toEqual([a.id]);
  });

  it("failed again: a task in any status reopens, or is quarantined once replayed too often", async () => {
    for (const status of TASK_STATUSES) {
      for (const [replays, expected] of [
        [0, "open"],
        [3, "quarantined"],
      ] as const) {
        const event = prospectEvent();
        const task = await fail(event, word());
        await setTask(task.id, status, replays);
        await fail(event, word());
        expect(await taskStatus(task.id), `${status} after ${replays} replays`).toBe(expected);
      }
    }
  });

  it("groups: settled from open or acknowledged only; reopened by a failure from resolved only", async () => {
    for (const status of GROUP_STATUSES) {
      const cause = word();
      const task = await fail(prospectEvent(), cause);
      await setTask(task.id, "resolved");
      await setGroup(task.group_id, status);
      await env.DB.batch([settleGroupsStatement(env.DB, [task.id], utcNow())]);
      expect(await groupStatus(task.group_id), `settle from ${status}`).toBe(
        GROUP_MOVES.settled.from.includes(status) ? "resolved" : status,
      );

      await setGroup(task.group_id, status);
      await fail(prospectEvent(), cause);
      expect(await groupStatus(task.group_id), `failure in ${status}`).toBe(
        GROUP_MOVES.failedAgain.from.includes(status) ? "open" : status,
      );
    }
  });
});
