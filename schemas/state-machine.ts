/** Allowed transitions of one column, e.g. prospects.stage. Terminal states map to []. */
export interface StateMachine<S extends string = string> {
  field: string;
  transitions: Readonly<Record<S, readonly S[]>>;
}

export function canTransition<S extends string>(machine: StateMachine<S>, from: S, to: S): boolean {
  if (from === to) return true;
  return machine.transitions[from]?.includes(to) ?? false;
}

/** Every (from, to) pair: the SQL transition tables are checked against this in tests. */
export function transitionPairs(machine: StateMachine): Array<[string, string]> {
  return Object.entries(machine.transitions).flatMap(([from, tos]) => tos.map((to): [string, string] => [from, to]));
}
