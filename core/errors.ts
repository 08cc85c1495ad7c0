import { errorCodeSpec, type ErrorCode } from "./error-codes";

/**
 * Every error the pipeline raises says whether retrying can help. Consumers retry `retryable`
 * errors with backoff and dead-letter the rest at once; the HTTP edge maps `status`.
 */
export class SyncError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly status: number;
  readonly details?: unknown;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { retryable: boolean; status: number; cause?: unknown; details?: unknown },
  ) {
    super(message, { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = opts.retryable;
    this.status = opts.status;
    this.details = opts.details;
  }
}

/**
 * Bad input: retrying the same input fails the same way. Its status is the catalogued one
 * (core/error-codes.ts) unless a call site names another; 400 for an uncatalogued code.
 */
export class ValidationError extends SyncError {
  constructor(code: ErrorCode, message: string, details?: unknown, status = errorCodeSpec(code)?.status ?? 400) {
    super(code, message, { retryable: false, status, details });
  }
}

/** The request conflicts with current state (stale version, invalid transition). */
export class ConflictError extends SyncError {
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(code, message, { retryable: false, status: 409, details });
  }
}

export class NotFoundError extends SyncError {
  constructor(message: string) {
    super("NOT_FOUND", message, { retryable: false, status: 404 });
  }
}

/** Who is calling is not known: no credential, a wrong one, or one no longer valid (TOKEN_REVOKED, TOKEN_EXPIRED). */
export class AuthError extends SyncError {
  constructor(message = "missing or invalid bearer token", code: ErrorCode = "UNAUTHORIZED") {
    super(code, message, { retryable: false, status: 401 });
  }
}

/** The caller is known but may not do this (OPERATOR_MISMATCH, OPERATOR_TOKEN_REQUIRED). */
export class ForbiddenError extends SyncError {
  constructor(code: ErrorCode, message: string) {
    super(code, message, { retryable: false, status: 403 });
  }
}

/** A dependency is down, slow or refusing: the same call may succeed later. */
export class TransientError extends SyncError {
  constructor(
    code: ErrorCode,
    message: string,
    cause?: unknown,
    /** When it is known that trying earlier is pointless (an open circuit). */
    readonly retryAfterSeconds?: number,
  ) {
    super(code, message, { retryable: true, status: 503, cause });
  }
}

/** A store rejected the data itself (constraint, type, trigger): retrying cannot help. */
export class PermanentStoreError extends SyncError {
  constructor(code: ErrorCode, message: string, cause?: unknown) {
    super(code, message, { retryable: false, status: 422, cause });
  }
}

export function describe(error: unknown): {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  retryAfterSeconds?: number;
} {
  if (error instanceof TransientError && error.retryAfterSeconds) {
    return { code: error.code, message: error.message, retryable: true, retryAfterSeconds: error.retryAfterSeconds };
  }
  if (error instanceof SyncError) return { code: error.code, message: error.message, retryable: error.retryable };
  const message = error instanceof Error ? error.message : String(error);
  // Unknown errors are treated as transient: retrying a bug costs a little time, dead-lettering
  // an outage loses nothing either, but guessing "permanent" for an outage would flood the DLQ.
  return { code: "UNEXPECTED", message, retryable: true };
}

/**
 * An error message as it is kept and forwarded: at most `maxChars` characters. A store's message
 * can quote a whole row; a dead letter carrying it could outgrow a queue message (128 KB).
 */
export function boundedMessage(message: string, maxChars = 2000): string {
  return message.length <= maxChars
    ? message
    : `${message.slice(0, maxChars)}… (${message.length - maxChars} more characters)`;
}
