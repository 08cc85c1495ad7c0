import { z } from "zod";
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

/**
 * A connection as the API shows it (GET /v1/hubspot/connection, POST /v1/hubspot/disconnect):
 * never a token, sealed or not; token_key_id only names the key its tokens are sealed under.
 */
export const hubspotConnectionSchema = z.object({
  id: z.string(),
  portal_id: z.number().int().positive(),
  scopes: z.array(z.string()),
  status: z.enum(CONNECTION_STATUSES),
  token_key_id: z.string().nullable(),
  expires_at: z.string().nullable(),
  last_error: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

/**
 * POST /v1/hubspot/disconnect's answer: the connection (disconnected, its tokens erased here
 * whatever HubSpot said) and whether HubSpot deleted the refresh token, with why not.
 */
export const hubspotDisconnectedSchema = z.object({
  connection: hubspotConnectionSchema,
  revoked: z.boolean(),
  revoke_error: z.string().nullable(),
});
