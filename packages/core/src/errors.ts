/**
 * The one table of error codes. Core knows nothing about HTTP: the http package maps each
 * code to a status in one exhaustive table, and the SDK rebuilds the same codes.
 *
 * @example
 * throw new ProServerError('NOT_FOUND', `key ${key} does not exist`);
 */
export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'MALFORMED_JSON',
  'UNSUPPORTED_MEDIA_TYPE',
  'PAYLOAD_TOO_LARGE',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'ALREADY_EXISTS',
  'CONFLICT',
  'VERSION_CONFLICT',
  'PRECONDITION_FAILED',
  'NOT_A_NUMBER',
  'UNAUTHENTICATED',
  'TOKEN_EXPIRED',
  'FORBIDDEN',
  'RATE_LIMITED',
  'TASK_NOT_CANCELLABLE',
  /** A task payload failed its type's schema (field errors in `errors`). */
  'INVALID_PAYLOAD',
  /** Task error codes (in a task's `error`, not thrown by the API): attempt timed out, handler failed, lease expired. */
  'TASK_TIMEOUT',
  'TASK_FAILED',
  'LEASE_EXPIRED',
  'LOCK_NOT_HELD',
  /** A replay (`since`/`after`) starts before the oldest retained event: the events in between were purged. */
  'EVENTS_EXPIRED',
  'UNAVAILABLE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** A problem with one field of the input: `path` is dotted (`tags.3`), `''` for the whole. */
export interface FieldError {
  path: string;
  message: string;
}

export interface ProServerErrorOptions {
  details?: Record<string, unknown>;
  errors?: FieldError[];
  cause?: unknown;
}

/**
 * The only error type core throws on purpose. Identify it by `code` (or `name`), not by
 * `instanceof`, when it crosses package boundaries.
 *
 * @example
 * try { await core.kv.get('missing') } catch (e) { if (isProServerError(e, 'NOT_FOUND')) … }
 */
export class ProServerError extends Error {
  override readonly name = 'ProServerError';
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;
  readonly errors?: FieldError[];

  constructor(code: ErrorCode, message: string, options: ProServerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.details) this.details = options.details;
    if (options.errors) this.errors = options.errors;
  }
}

/** True when `error` is a ProServerError (optionally with the given code). */
export function isProServerError(error: unknown, code?: ErrorCode): error is ProServerError {
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as { name?: unknown; code?: unknown };
  if (candidate.name !== 'ProServerError' || typeof candidate.code !== 'string') return false;
  return code === undefined || candidate.code === code;
}
