import { describe, expect, it } from "vitest";
import { prospectStageMachine } from "../schemas/entities/prospects";
import { transitionPairs } from "../schemas/state-machine";
import { pg } from "./support/helpers";

describe("prospect stage machine, enforced at the source (Postgres trigger)", () => {
  it("Postgres's transition table is exactly the registry's machine", async () => {
    const rows = await pg()`select from_state, to_state from sync.state_transitions where entity = 'prospects' and field = 'stage'`;
    expect(rows.map((r) => `${r.from_state}>${r.to_state}`).sort()).toEqual(
      transitionPairs(prospectStageMachine).map(([a, b]) => `${a}>${b}`).sort(),
    );
  });

  it("allows a valid path and refuses an invalid transition, writing nothing", async () => {
    const [p] = await pg()`insert into prospects (name) values ('Stage test') returning id`;
    for (const stage of ["enriching", "enriched", "ready", "contacted"]) await pg()`update prospects set stage = ${stage} where id = ${p!.id}`;
    await expect(pg()`update prospects set stage = 'won' where id = ${p!.id}`).rejects.toThrow(/INVALID_TRANSITION: prospects.stage cannot go from contacted to won/);
    const [row] = await pg()`select stage, version::int as version from prospects where id = ${p!.id}`;
    expect(row).toEqual({ stage: "contacted", version: 5 });
    const log = await pg()`select count(*)::int as n from sync.change_log where row_id = ${p!.id}`;
    expect(log[0]!.n).toBe(5);
  });
});
