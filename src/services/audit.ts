import type { z } from "zod";
import { newEventId } from "../../schemas/event";
import type { AUDIT_ACTIONS, AUDIT_TARGET_TYPES, auditEntrySchema, listAuditQuery } from "../../schemas/operator-api";
import { utcNow } from "../lib/utc";

export interface AuditRecord {
  actor: string;
  action: (typeof AUDIT_ACTIONS)[number];
  reason?: string | null;
  target_type: (typeof AUDIT_TARGET_TYPES)[number];
  target_id: string;
  selection?: unknown;
  result?: unknown;
}

/**
 * The audit line for an operator action, as a statement to run in the same D1 batch as the action
 * itself: the action and its record commit together or not at all.
 */
export function auditStatement(db: D1Database, r: AuditRecord): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO operator_audit (id, at, actor, action, reason, target_type, target_id, selection, result)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)`,
    )
    .bind(
      newEventId(),
      utcNow(),
      r.actor,
      r.action,
      r.reason ?? null,
      r.target_type,
      r.target_id,
      r.selection === undefined ? null : JSON.stringify(r.selection),
      r.result === undefined ? null : JSON.stringify(r.result),
    );
}

type AuditEntry = z.infer<typeof auditEntrySchema>;

/** Newest first, keyset-paginated on the ULID id. */
export async function listAudit(db: D1Database, q: z.infer<typeof listAuditQuery>): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
  const { results } = await db
    .prepare(
      `SELECT * FROM operator_audit
        WHERE (?1 IS NULL OR actor = ?1) AND (?2 IS NULL OR action = ?2) AND (?3 IS NULL OR target_id = ?3)
          AND (?4 IS NULL OR at >= ?4) AND (?5 IS NULL OR at < ?5) AND (?6 IS NULL OR id < ?6)
        ORDER BY id DESC LIMIT ?7`,
    )
    .bind(q.actor ?? null, q.action ?? null, q.target ?? null, q.since ?? null, q.until ?? null, q.cursor ?? null, q.limit + 1)
    .all<Record<string, unknown>>();
  const items = results.slice(0, q.limit).map((r) => ({
    ...(r as unknown as AuditEntry),
    selection: r.selection === null ? null : JSON.parse(String(r.selection)),
    result: r.result === null ? null : JSON.parse(String(r.result)),
  }));
  return { items, nextCursor: results.length > q.limit ? items[items.length - 1]!.id : null };
}
