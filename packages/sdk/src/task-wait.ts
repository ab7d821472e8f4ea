/**
 * Waiting for a task by polling its status: the fallback every client has (the WebSocket path
 * is task-wait-events.ts). Polls quickly at first, then more slowly while nothing changes, and quickly
 * again after a change, so a long task costs few requests and a short one is seen at once.
 */
import { ApiError } from './errors.js';
import type { WaitOptions } from './task-inputs.js';
import type { TaskStatus, TaskStatusView } from './task-types.js';

/** First poll interval unless the caller sets one. */
export const DEFAULT_POLL_INTERVAL_MS = 500;
/** The interval grows (×1.5 per unchanged poll) up to this, or up to the caller's interval if larger. */
export const MAX_POLL_INTERVAL_MS = 2000;

const FINAL: readonly TaskStatus[] = ['completed', 'failed', 'cancelled'];

/**
 * True for `completed`, `failed` and `cancelled`.
 *
 * @example
 * if (isFinalStatus(task.status)) console.log('done');
 */
export function isFinalStatus(status: TaskStatus): boolean {
  return FINAL.includes(status);
}

/**
 * Polls `readStatus` until the task is final; resolves with the last status view. Rejects with
 * `WAIT_TIMEOUT` (status 0) after `timeoutMs`, with the signal's reason when it aborts, and
 * with the poll's own error when a read fails.
 *
 * @example
 * const final = await pollUntilFinal(id, () => client.tasks.status(id), { timeoutMs: 60_000 });
 */
export async function pollUntilFinal(
  id: string,
  readStatus: () => Promise<TaskStatusView>,
  options: WaitOptions = {},
): Promise<TaskStatusView> {
  const { onProgress, signal } = options;
  const baseInterval = checkMs('pollIntervalMs', options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, 1);
  const maxInterval = Math.max(baseInterval, MAX_POLL_INTERVAL_MS);
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + checkMs('timeoutMs', options.timeoutMs, 0);
  let interval = baseInterval;
  let lastKey: string | undefined;

  for (;;) {
    signal?.throwIfAborted();
    const view = await abortable(readStatus(), signal);
    const key = JSON.stringify([view.status, view.progress, view.stage]);
    if (key !== lastKey) {
      lastKey = key;
      interval = baseInterval;
      onProgress?.(view);
    } else {
      interval = Math.min(maxInterval, Math.round(interval * 1.5));
    }
    if (isFinalStatus(view.status)) return view;
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new ApiError({
        status: 0,
        code: 'WAIT_TIMEOUT',
        detail: `task ${id} was still ${view.status} after ${options.timeoutMs} ms`,
      });
    }
    await delay(Math.min(interval, remaining), signal);
  }
}

/**
 * `value` when it is a finite number ≥ `min`; else a `VALIDATION_FAILED` ApiError naming the option.
 *
 * @example
 * const timeoutMs = checkMs('timeoutMs', options.timeoutMs, 0);
 */
export function checkMs(name: string, value: number, min: number): number {
  if (!Number.isFinite(value) || value < min) {
    throw new ApiError({
      status: 0,
      code: 'VALIDATION_FAILED',
      detail: `${name} must be a number of milliseconds of at least ${min}`,
      errors: [{ path: name, message: `must be at least ${min}` }],
    });
  }
  return value;
}

/** Settles with `promise`, or rejects with the signal's reason as soon as it aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
