/** Allowed transitions of one column, e.g. prospects.stage. Terminal states map to []. */
export interface StateMachine<S extends string = string> {
  field: string;
  transitions: Readonly<Record<S, readonly S[]>>;
}

/**
 * Whether a requested move of the state column is allowed. Staying in the same state is not a
 * move: a request for it is refused (`replied → replied` would re-stamp replied_at and bump the
 * version of a final email). The stores agree: their transition tables hold no (s, s) pair and
 * their triggers check only updates that change the state; an update that keeps the state and
 * edits other columns is an ordinary edit, not a transition (a prospect's name, an email's
 * error text). D1 additionally refuses an update that keeps an email's status but rewrites a
 * status timestamp (migrations/d1/0009).
 */
export function canTransition<S extends string>(machine: StateMachine<S>, from: S, to: S): boolean {
  if (from === to) return false;
  return machine.transitions[from]?.includes(to) ?? false;
}

/** Every (from, to) pair: the SQL transition tables are checked against this in tests. */
export function transitionPairs(machine: StateMachine): Array<[string, string]> {
  return Object.entries(machine.transitions).flatMap(([from, tos]) => tos.map((to): [string, string] => [from, to]));
}
