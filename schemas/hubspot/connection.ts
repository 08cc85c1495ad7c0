import type { StateMachine } from "../state-machine";

export const CONNECTION_STATUSES = ["pending", "connected", "error", "disconnected"] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

/**
 * Seed 002's connection flow (disconnected → connecting → connected, either side → error), with
 * `pending` for the seed's "connecting" (authorization started, no tokens yet). A refresh that
 * fails marks a connection `error`; a later successful refresh or a new authorization brings it
 * back; disconnecting forgets the tokens and a new connect starts from pending. Enforced by a
 * transition trigger on hubspot_connections.
 */
export const connectionMachine: StateMachine<ConnectionStatus> = {
  field: "status",
  transitions: {
    pending: ["connected", "error", "disconnected"],
    connected: ["error", "disconnected"],
    error: ["connected", "pending", "disconnected"],
    disconnected: ["pending"],
  },
};
