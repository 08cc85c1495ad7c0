import { describe, expect, it } from "vitest";
import { env } from "cloudflare:test";
import { emailStatusMachine } from "../schemas/entities/emails";
import { prospectStageMachine } from "../schemas/entities/prospects";
import { canTransition, transitionPairs, type StateMachine } from "../schemas/state-machine";
import { pg } from "./support/helpers";

describe("prospect stage machine, enforced at the source (Postgres trigger)", () => {
  it("Postgres's transition table is exactly the registry's machine", async () => {
    const rows =
      await pg()`select from_state, to_state from sync.state_transitions where entity = 'prospects' and field = 'stage'`;
    expect(rows.map((r) => `${r.from_state}>${r.to_state}`).sort()).toEqual(
      transitionPairs(prospectStageMachine)
        .map(([a, b]) => `${a}>${b}`)
        .sort(),
    );
  });

  it("allows a valid path and refuses an invalid transition, writing nothing", async () => {
    const [p] = await pg()`insert into prospects (name) values ('Stage test') returning id`;
    for (const stage of ["enriching", "enriched", "ready", "contacted"])
      await pg()`update prospects set stage = ${stage} where id = ${p!.id}`;
    await expect(pg()`update prospects set stage = 'won' where id = ${p!.id}`).rejects.toThrow(
      /INVALID_TRANSITION: prospects.stage cannot go from contacted to won/,
    );
    const [row] = await pg()`select stage, version::int as version from prospects where id = ${p!.id}`;
    expect(row).toEqual({ stage: "contacted", version: 5 });
    const log = await pg()`select count(*)::int as n from sync.change_log where row_id = ${p!.id}`;
    expect(log[0]!.n).toBe(5);
  });
});

describe("a move to the same state: the registry, D1 and Postgres agree", () => {
  const machines: Array<[string, StateMachine]> = [
    ["prospects.stage", prospectStageMachine],
    ["emails.status", emailStatusMachine],
  ];

  it("is never a transition in the registry, nor in either store's transition table", async () => {
    for (const [name, machine] of machines) {
      for (const state of Object.keys(machine.transitions))
        expect(canTransition(machine, state, state), `${name}: ${state} -> ${state}`).toBe(false);
      expect(
        transitionPairs(machine).filter(([a, b]) => a === b),
        name,
      ).toEqual([]);
    }
    const pgSelf = await pg()`select count(*)::int as n from sync.state_transitions where from_state = to_state`;
    expect(pgSelf[0]!.n).toBe(0);
    const d1Self = await env.DB.prepare(
      "SELECT count(*) AS n FROM email_status_transitions WHERE from_status = to_status",
    ).first<{ n: number }>();
    expect(d1Self!.n).toBe(0);
  });

  it("Postgres treats an update that keeps the stage as an ordinary edit, not a transition", async () => {
    const [p] = await pg()`insert into prospects (name, stage) values ('Same stage', 'new') returning id`;
    await pg()`update prospects set stage = 'enriching' where id = ${p!.id}`;
    await pg()`update prospects set stage = 'enriching', name = 'Renamed' where id = ${p!.id}`;
    const [row] = await pg()`select stage, name, version::int as version from prospects where id = ${p!.id}`;
    expect(row).toEqual({ stage: "enriching", name: "Renamed", version: 3 });
  });
});
