import { resolveSessionErrors } from "../../core/hubspot/session-log";
import type { SupabaseRpc } from "../../core/stores/supabase-rpc";
import { auditStatement, type Actor } from "./audit";

/**
 * An operator marks a sync session's errors resolved (seed 002's error_logs.resolved), with a
 * reason. The flag is in Supabase and the audit trail in D1, so they cannot commit together: the
 * line is written once the flag is set, and marking again is harmless (it marks nothing more).
 */
export async function resolveSessionErrorsAs(
  deps: { rpc: SupabaseRpc; db: D1Database },
  sessionId: string,
  req: { reason: string; actor: Actor },
): Promise<{ resolved: number }> {
  const resolved = await resolveSessionErrors(deps.rpc, sessionId);
  await auditStatement(deps.db, {
    actor: req.actor,
    action: "hubspot-errors-resolve",
    reason: req.reason,
    target_type: "hubspot-session",
    target_id: sessionId,
    result: { resolved },
  }).run();
  return { resolved };
}
