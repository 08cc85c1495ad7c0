import type { z } from "zod";
import { newEventId } from "../../schemas/event";
import type {
  AUDIT_ACTIONS,
  AUDIT_TARGET_TYPES,
  AuthKind,
  auditEntrySchema,
  listAuditQuery,
} from "../../schemas/operator-api";
import { utcNow } from "../../core/utc";

/**
 * Who acts, and how the worker knows: an operator token (`tokenId`) or a Cloudflare Access JWT
 * proves the name; with the shared admin token the name is only what `x-operator` claimed.
 */
export interface Actor {
  name: string;
  auth: AuthKind;
  tokenId: string | null;
}

export interface AuditRecord {
  actor: Actor;
  action: (typeof AUDIT_ACTIONS)[number];
  reason?: string | null;
  target_type: (typeof AUDIT_TARGET_TYPES)[number];
  target_id: string;
  selection?: unknown;
  result?: unknown;
}

/**
 * The audit line for an operator action, as a statement to run in the same D1 batch as the action
 * itself: the action and its record commit together or not at all. `ifPreviousChanged`: written
 * only if the statement just before it in the batch changed a row (a conditional UPDATE that
 * matched nothing did nothing, and the trail must not say otherwise).
 */
export function auditStatement(
  db: D1Database,
  r: AuditRecord,
  opts: { ifPreviousChanged?: boolean } = {},
): D1PreparedStatement {
  // INSERT INTO operator_audit (...) SELECT ?1, ..., ?11 [WHERE changes() > 0]
  return db
    .prepare(
      `INSERT INTO operator_audit (id, at, actor, action, reason, target_type, target_id, selection, result, auth, token_id)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11${opts.ifPreviousChanged ? " WHERE changes() > 0" : ""}`,
    )
    .bind(
      newEventId(),
      utcNow(),
      r.actor.name,
      r.action,
      r.reason ?? null,
      r.target_type,
      r.target_id,
      r.selection === undefined ? null : JSON.stringify(r.selection),
      r.result === undefined ? null : JSON.stringify(r.result),
      r.actor.auth,
      r.actor.tokenId,
    );
}

type AuditEntry = z.infer<typeof auditEntrySchema>;

/** Newest first, keyset-paginated on the ULID id. */
export async function listAudit(
  db: D1Database,
  q: z.infer<typeof listAuditQuery>,
): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
  const { results } = await db
    .prepare(
      `SELECT * FROM operator_audit
        WHERE (?1 IS NULL OR actor = ?1) AND (?2 IS NULL OR action = ?2) AND (?3 IS NULL OR target_id = ?3)
          AND (?4 IS NULL OR at >= ?4) AND (?5 IS NULL OR at < ?5) AND (?6 IS NULL OR id < ?6) AND (?8 IS NULL OR auth = ?8)
        ORDER BY id DESC LIMIT ?7`,
    )
    .bind(
      q.actor ?? null,
      q.action ?? null,
      q.target ?? null,
      q.since ?? null,
      q.until ?? null,
      q.cursor ?? null,
      q.limit + 1,
      q.auth ?? null,
    )
    .all<Record<string, unknown>>();
  const items = results.slice(0, q.limit).map((r) => ({
    ...(r as unknown as AuditEntry),
    selection: r.selection === null ? null : JSON.parse(String(r.selection)),
    result: r.result === null ? null : JSON.parse(String(r.result)),
  }));
  return { items, nextCursor: results.length > q.limit ? items[items.length - 1]!.id : null };
}
