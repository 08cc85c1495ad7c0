/** Where a request came from, for the seed's audit trail (Cloudflare's client IP, the user agent). */
export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

/** Who changed a connection and from where: the operator's part of its hubspot_audit_logs line. */
export interface ConnectionAudit {
  userId: string;
  client: ClientInfo;
}

/**
 * The `p_audit` of the audited connection functions (migration 0017), which write the line of
 * hubspot_audit_logs (seed 002's audit_logs) in the same transaction as the change, with the
 * connection before and after as the database holds them: no token, sealed or not, is ever
 * written there. An IP that is not one is left out by the SQL function, not refused.
 */
export function auditArgument(audit: ConnectionAudit) {
  return {
    user_id: audit.userId,
    ip_address: audit.client.ip,
    user_agent: audit.client.userAgent?.slice(0, 500) ?? null,
  };
}
