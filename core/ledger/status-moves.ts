import { canTransition, type StateMachine } from "../../schemas/state-machine";

/**
 * A named transition of a ledger status: the states it may start from and the states it may end
 * in. Staying put (from === to) is allowed here, as a rewrite of the same status (a task failing
 * again while open, a stuck replaying task sent again with an override): like an entity edit that
 * keeps its state, it is no move of the machine.
 */
export interface Moves<S extends string> {
  from: readonly S[];
  to: readonly S[];
}

/** The (from, to) pairs a named transition makes, without staying put. */
export function movePairs<S extends string>(moves: Moves<S>): Array<[S, S]> {
  return moves.from.flatMap((from) => moves.to.filter((to) => to !== from).map((to): [S, S] => [from, to]));
}

/**
 * Declares a machine's named transitions, checked when the module loads: a transition that makes a
 * move the machine does not declare is refused, so SQL built from it cannot drift from the machine.
 * (That every declared move has a transition making it is checked by test/ledger-status.test.ts.)
 */
export function namedMoves<S extends string, K extends string>(
  machine: StateMachine<S>,
  moves: Record<K, Moves<S>>,
): Readonly<Record<K, Moves<S>>> {
  for (const [name, m] of Object.entries<Moves<S>>(moves)) {
    for (const [from, to] of movePairs(m)) {
      if (!canTransition(machine, from, to))
        throw new Error(`${machine.field}: ${name} moves ${from} → ${to}, which the machine does not declare`);
    }
  }
  return moves;
}

/** Whether `from → to` is one of this transition's moves (staying put included). */
export function allows<S extends string>(moves: Moves<S>, from: S, to: S): boolean {
  return moves.from.includes(from) && moves.to.includes(to);
}

/** A SQL list literal of statuses, `('a','b')`: statuses are our own constants, never input. */
export function sqlList(statuses: readonly string[]): string {
  return `(${statuses.map((s) => `'${s.replace(/'/g, "''")}'`).join(",")})`;
}
