import type { z } from "zod";
import { newEventId } from "../../schemas/event";
import type { OperatorToken, createOperatorTokenBody, listOperatorTokensQuery } from "../../schemas/operator-api";
import { AuthError, ConflictError, ForbiddenError, NotFoundError, ValidationError } from "../../core/errors";
import { hashOperatorToken, newOperatorToken } from "../lib/operator-token";
import { auditStatement, type Actor } from "./audit";
import { classifyD1Error } from "../../core/stores/d1-errors";

/** last_used_at is a hint for operators ("is this token still in use?"), not a log: once a minute is enough. */
const TOUCH_INTERVAL_MS = 60_000;

interface TokenRow {
  id: string;
  operator: string;
  created_at: string;
  created_by: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  revoked_by: string | null;
}

// Never `SELECT *`: the hash stays in D1.
const COLUMNS = "id, operator, created_at, created_by, expires_at, last_used_at, revoked_at, revoked_by";

function toToken(row: TokenRow, now: Date): OperatorToken {
  const status = row.revoked_at
    ? "revoked"
    : row.expires_at && Date.parse(row.expires_at) <= now.getTime()
      ? "expired"
      : "active";
  return { ...row, status };
}

/**
 * Creates a token for `body.operator` and returns it once; D1 keeps only its hash. A proven
 * operator (operator token, Access JWT) may create tokens only for itself (rotation, or a CLI token
 * for someone who signs in through Access): minting one for somebody else
 * would let a token holder act as them, so that takes the shared admin token, whose holders can
 * claim any name anyway (and that line says so: auth admin-token).
 */
export async function createOperatorToken(
  db: D1Database,
  body: z.infer<typeof createOperatorTokenBody>,
  by: Actor,
  now: Date,
): Promise<{ token: OperatorToken; secret: string }> {
  if (by.auth !== "admin-token" && body.operator !== by.name) {
    throw new ForbiddenError(
      "OPERATOR_MISMATCH",
      `a proven operator (${by.name}, ${by.auth}) creates tokens for itself only; use the admin token to create one for ${body.operator}`,
    );
  }
  if (body.expires_at && Date.parse(body.expires_at) <= now.getTime()) {
    throw new ValidationError("INVALID_REQUEST", "expires_at: must lie in the future");
  }
  const secret = newOperatorToken();
  const row: TokenRow = {
    id: newEventId(),
    operator: body.operator,
    created_at: now.toISOString(),
    created_by: by.name,
    expires_at: body.expires_at ?? null,
    last_used_at: null,
    revoked_at: null,
    revoked_by: null,
  };
  await db.batch([
    db
      .prepare(
        "INSERT INTO operator_tokens (id, operator, token_hash, created_at, created_by, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
      )
      .bind(row.id, row.operator, await hashOperatorToken(secret), row.created_at, row.created_by, row.expires_at),
    auditStatement(db, {
      actor: by,
      action: "token-create",
      reason: body.reason,
      target_type: "operator-token",
      target_id: row.id,
      selection: { operator: row.operator, expires_at: row.expires_at },
    }),
  ]);
  return { token: toToken(row, now), secret };
}

/** Newest first. Status is derived, so an expired token reads as expired without a sweep. */
export async function listOperatorTokens(
  db: D1Database,
  q: z.infer<typeof listOperatorTokensQuery>,
  now: Date,
): Promise<OperatorToken[]> {
  const at = now.toISOString();
  const { results } = await db
    .prepare(
      `SELECT ${COLUMNS} FROM operator_tokens
        WHERE (?1 IS NULL OR operator = ?1)
          AND (?2 IS NULL
               OR (?2 = 'revoked' AND revoked_at IS NOT NULL)
               OR (?2 = 'expired' AND revoked_at IS NULL AND expires_at IS NOT NULL AND expires_at <= ?3)
               OR (?2 = 'active' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?3)))
        ORDER BY id DESC LIMIT ?4`,
    )
    .bind(q.operator ?? null, q.status ?? null, at, q.limit)
    .all<TokenRow>();
  return results.map((r) => toToken(r, now));
}

export async function getOperatorToken(db: D1Database, id: string, now: Date): Promise<OperatorToken> {
  const row = await db.prepare(`SELECT ${COLUMNS} FROM operator_tokens WHERE id = ?1`).bind(id).first<TokenRow>();
  if (!row) throw new NotFoundError(`operator token ${id} does not exist`);
  return toToken(row, now);
}

/**
 * Revokes a token at once (the next request with it gets TOKEN_REVOKED). Any admin may revoke any
 * token: it only takes access away, and whoever finds a leaked token must be able to kill it.
 */
export async function revokeOperatorToken(
  db: D1Database,
  id: string,
  by: { actor: Actor; reason: string },
  now: Date,
): Promise<OperatorToken> {
  const before = await getOperatorToken(db, id, now);
  const at = now.toISOString();
  const [update] = await db.batch([
    db
      .prepare("UPDATE operator_tokens SET revoked_at = ?2, revoked_by = ?3 WHERE id = ?1 AND revoked_at IS NULL")
      .bind(id, at, by.actor.name),
    // Two revokes racing: only the one whose UPDATE took effect writes an audit line.
    auditStatement(
      db,
      {
        actor: by.actor,
        action: "token-revoke",
        reason: by.reason,
        target_type: "operator-token",
        target_id: id,
        selection: { operator: before.operator },
      },
      { ifPreviousChanged: true },
    ),
  ]);
  if (!update!.meta.changes) {
    const current = await getOperatorToken(db, id, now);
    throw new ConflictError(
      "ALREADY_REVOKED",
      `operator token ${id} was revoked at ${current.revoked_at} by ${current.revoked_by}`,
    );
  }
  return getOperatorToken(db, id, now);
}

/**
 * The token's row if `secret` is a live token, else 401: unknown (UNAUTHORIZED), TOKEN_REVOKED or
 * TOKEN_EXPIRED. Found by an index lookup of its hash (see hashOperatorToken for why that is safe).
 */
export async function authenticateOperatorToken(
  db: D1Database,
  secret: string,
  now: Date,
): Promise<{ id: string; operator: string }> {
  // D1 failing is an outage, not a refusal: 503, retryable (not 401, and not an unexplained 500).
  const row = await db
    .prepare(`SELECT ${COLUMNS} FROM operator_tokens WHERE token_hash = ?1`)
    .bind(await hashOperatorToken(secret))
    .first<TokenRow>()
    .catch((error: unknown) => {
      throw classifyD1Error(error);
    });
  if (!row) throw new AuthError("unknown operator token");
  if (row.revoked_at)
    throw new AuthError(`operator token ${row.id} (${row.operator}) was revoked at ${row.revoked_at}`, "TOKEN_REVOKED");
  if (row.expires_at && Date.parse(row.expires_at) <= now.getTime()) {
    throw new AuthError(`operator token ${row.id} (${row.operator}) expired at ${row.expires_at}`, "TOKEN_EXPIRED");
  }
  if (!row.last_used_at || now.getTime() - Date.parse(row.last_used_at) >= TOUCH_INTERVAL_MS)
    await touch(db, row.id, now);
  return { id: row.id, operator: row.operator };
}

/** Best effort: a failed bookkeeping write must not refuse an authenticated request. */
async function touch(db: D1Database, id: string, now: Date): Promise<void> {
  try {
    // The guard makes concurrent first requests of a minute write the same value at most.
    await db
      .prepare(
        "UPDATE operator_tokens SET last_used_at = ?2 WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at <= ?3)",
      )
      .bind(id, now.toISOString(), new Date(now.getTime() - TOUCH_INTERVAL_MS).toISOString())
      .run();
  } catch (error) {
    console.warn(JSON.stringify({ msg: "operator token last_used_at not updated", tokenId: id, error: String(error) }));
  }
}

/** Whether a token still signs anyone in (not revoked, not expired): for sessions it started. */
export async function operatorTokenActive(db: D1Database, id: string, now: Date): Promise<boolean> {
  const row = await db
    .prepare("SELECT revoked_at, expires_at FROM operator_tokens WHERE id = ?1")
    .bind(id)
    .first<{ revoked_at: string | null; expires_at: string | null }>()
    .catch((error: unknown) => {
      throw classifyD1Error(error);
    });
  return Boolean(row && !row.revoked_at && !(row.expires_at && Date.parse(row.expires_at) <= now.getTime()));
}
