import { isProServerError } from '../errors.js';
import type { TaskError } from './types.js';

/** Why a handler's signal aborted. */
export type TaskAbortReason = 'cancelled' | 'timeout' | 'preempted' | 'shutdown' | 'lease lost';

/**
 * The `signal.reason` of an aborted handler. Handlers usually just rethrow it
 * (`signal.throwIfAborted()`); the engine decides the outcome from `reason`.
 *
 * @example
 * if (ctx.signal.reason instanceof TaskAbortError && ctx.signal.reason.reason === 'preempted') …
 */
export class TaskAbortError extends Error {
  override readonly name = 'AbortError';
  constructor(readonly reason: TaskAbortReason) {
    super(`task aborted: ${reason}`);
  }
}

/**
 * Throw it from a handler for a failure that retrying cannot fix: the task fails at once.
 * Any error with `retryable: false` has the same effect.
 *
 * @example
 * throw new NonRetryableError('the org rejected the credentials', 'ORG_AUTH_EXPIRED');
 */
export class NonRetryableError extends Error {
  override readonly name = 'NonRetryableError';
  readonly retryable = false;
  constructor(
    message: string,
    readonly code = 'TASK_FAILED',
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** ProServerError codes that describe bad input or missing rights: a retry gives the same answer. */
const NON_RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'VALIDATION_FAILED',
  'INVALID_PAYLOAD',
  'NOT_FOUND',
  'FORBIDDEN',
  'UNAUTHENTICATED',
  'PAYLOAD_TOO_LARGE',
]);

const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
const MAX_MESSAGE_LENGTH = 2000;

function plainObject(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  try {
    return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * Describes anything a handler threw as a {@link TaskError}: a ProServerError keeps its code, an
 * error with an UPPER_SNAKE `code` keeps it, everything else is `TASK_FAILED`. Retryable unless
 * `retryable: false` (e.g. {@link NonRetryableError}) or a bad-input ProServerError code.
 * No stack traces: they may reveal internals.
 *
 * @example
 * toTaskError(new Error('boom')); // { code: 'TASK_FAILED', message: 'boom', retryable: true }
 */
export function toTaskError(thrown: unknown): TaskError {
  if (typeof thrown !== 'object' || thrown === null) {
    return { code: 'TASK_FAILED', message: String(thrown).slice(0, MAX_MESSAGE_LENGTH), retryable: true };
  }
  const candidate = thrown as { code?: unknown; message?: unknown; retryable?: unknown; details?: unknown };
  const code = typeof candidate.code === 'string' && CODE.test(candidate.code) ? candidate.code : 'TASK_FAILED';
  const message = typeof candidate.message === 'string' ? candidate.message : String(thrown);
  let retryable = candidate.retryable !== false;
  if (isProServerError(thrown) && NON_RETRYABLE_CODES.has(thrown.code)) retryable = false;
  const details = plainObject(candidate.details);
  return { code, message: message.slice(0, MAX_MESSAGE_LENGTH), retryable, ...(details ? { details } : {}) };
}
