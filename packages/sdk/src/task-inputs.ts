/**
 * What a caller sends to the task API (SPEC §3): submit bodies and options, list filters,
 * and the options of `tasks.wait`. The records it answers are in ./task-types.ts.
 */
import type { Recurrence, RetryPolicy, TaskPriority, TaskStatus, TaskStatusView } from './task-types.js';
import type { JsonValue, PageOptions } from './types.js';

/**
 * Body of a submit. Only `type` is required; the rest override the type's defaults.
 *
 * @example
 * await client.tasks.submit({ type: 'salesforce.deploy', payload: { org: 'uat' }, concurrencyKey: 'org/uat', tags: ['ci'] });
 */
export interface SubmitTaskInput {
  type: string;
  payload?: JsonValue;
  priority?: TaskPriority;
  /** ISO 8601 with a zone (`Z` or an offset): not started before. */
  runAt?: string;
  recurrence?: Recurrence;
  retry?: Partial<RetryPolicy>;
  timeoutMs?: number;
  /** At most one running task per key (e.g. one deploy per org). */
  concurrencyKey?: string;
  tags?: string[];
}

/**
 * Options of a submit. `idempotencyKey` (1 to 200 printable characters): resubmitting with the
 * same key within 24 h returns the original task. `waitSeconds` (0 to 60): the server holds
 * the answer until the task is final or the time is up (`Prefer: wait=N`).
 *
 * @example
 * const task = await client.tasks.submit(input, { idempotencyKey: `build-${buildId}`, waitSeconds: 10 });
 */
export interface SubmitTaskOptions {
  idempotencyKey?: string;
  waitSeconds?: number;
}

/**
 * Filters of the task list (newest first).
 *
 * @example
 * await client.tasks.list({ status: 'failed', type: 'salesforce.deploy', limit: 20 });
 */
export interface TaskListOptions extends PageOptions {
  status?: TaskStatus;
  type?: string;
  priority?: TaskPriority;
  tag?: string;
  /** An application token id. */
  submitter?: string;
  /** The runs of a recurring task. */
  parentId?: string;
}

/**
 * Options of {@link TasksClient.wait}: polls `GET …/status` every `pollIntervalMs` (default
 * 500), slowing down to every 2 s while nothing changes.
 *
 * @example
 * await client.tasks.wait(id, { timeoutMs: 600_000, onProgress: (s) => console.log(s.progress?.percent) });
 */
export interface WaitOptions {
  /** Called with the first status read and whenever status, progress or stage changes. */
  onProgress?: (status: TaskStatusView) => void;
  /** Give up after this long with an ApiError `WAIT_TIMEOUT` (status 0); default: wait forever. */
  timeoutMs?: number;
  pollIntervalMs?: number;
  /** Stops waiting (the promise rejects with the signal's reason); the task itself goes on. */
  signal?: AbortSignal;
  /**
   * `ws`: watch the task's events over the WebSocket; `poll`: poll its status. Default: `ws`
   * when a WebSocket is available, falling back to polling when it cannot connect.
   */
  via?: 'ws' | 'poll';
}

/**
 * Options of a log read: lines with `seq` above `after` (default 0), at most `limit` (default 100, max 1000).
 *
 * @example
 * await client.tasks.logs(id, { after: 120, limit: 500 });
 */
export interface TaskLogOptions {
  after?: number;
  limit?: number;
}
