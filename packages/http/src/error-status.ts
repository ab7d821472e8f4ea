import type { ErrorCode } from '@proserver/core';

/**
 * The one table from core's error codes to HTTP statuses. Exhaustive by type: a new code in
 * core does not compile here until it has a status. Used only by the problem responses.
 *
 * @example
 * ERROR_STATUS.PRECONDITION_FAILED; // 412
 */
export const ERROR_STATUS: Readonly<Record<ErrorCode, number>> = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  ALREADY_EXISTS: 409,
  CONFLICT: 409,
  VERSION_CONFLICT: 409,
  PRECONDITION_FAILED: 412,
  NOT_A_NUMBER: 409,
  UNAUTHENTICATED: 401,
  TOKEN_EXPIRED: 401,
  FORBIDDEN: 403,
  RATE_LIMITED: 429,
  TASK_NOT_CANCELLABLE: 409,
  INVALID_PAYLOAD: 422,
  // Task outcome codes live in a task's `error`, not in API answers; should one ever be
  // thrown through a route it is a server-side failure.
  TASK_TIMEOUT: 500,
  TASK_FAILED: 500,
  LEASE_EXPIRED: 500,
  LOCK_NOT_HELD: 409,
  // The events asked for (`since`, `after`) were purged by retention: gone for good.
  EVENTS_EXPIRED: 410,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** Short human titles for problem bodies (RFC 9457 `title`: the same for every instance of a code). */
export const ERROR_TITLE: Readonly<Record<ErrorCode, string>> = {
  VALIDATION_FAILED: 'Validation failed',
  MALFORMED_JSON: 'Malformed JSON',
  UNSUPPORTED_MEDIA_TYPE: 'Unsupported media type',
  PAYLOAD_TOO_LARGE: 'Payload too large',
  NOT_FOUND: 'Not found',
  METHOD_NOT_ALLOWED: 'Method not allowed',
  ALREADY_EXISTS: 'Already exists',
  CONFLICT: 'Conflict',
  VERSION_CONFLICT: 'Version conflict',
  PRECONDITION_FAILED: 'Precondition failed',
  NOT_A_NUMBER: 'Not a number',
  UNAUTHENTICATED: 'Unauthenticated',
  TOKEN_EXPIRED: 'Token expired',
  FORBIDDEN: 'Forbidden',
  RATE_LIMITED: 'Rate limited',
  TASK_NOT_CANCELLABLE: 'Task not cancellable',
  INVALID_PAYLOAD: 'Invalid task payload',
  TASK_TIMEOUT: 'Task timed out',
  TASK_FAILED: 'Task failed',
  LEASE_EXPIRED: 'Lease expired',
  LOCK_NOT_HELD: 'Lock not held',
  EVENTS_EXPIRED: 'Events expired',
  UNAVAILABLE: 'Service unavailable',
  INTERNAL: 'Internal server error',
};
