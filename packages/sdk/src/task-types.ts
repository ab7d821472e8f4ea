/**
 * The task wire format (SPEC §3), declared here on purpose: the SDK knows only what travels
 * over HTTP. Times are ISO 8601 UTC strings; durations carry their unit in the name.
 */
import type { JsonValue, PageOptions } from './types.js';

/**
 * Where a task is in its life: `pending` → `running` → `completed` | `failed` | `cancelled`.
 * A failed attempt that will be retried goes back to `pending`.
 *
 * @example
 * const done: TaskStatus[] = ['completed', 'failed', 'cancelled'];
 */
export type TaskStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';

/**
 * `critical` (served first, own capacity), `normal` (fair between submitters), `batch`
 * (spare capacity, may be preempted by critical work).
 *
 * @example
 * await client.tasks.submit({ type: 'report.build', priority: 'batch' });
 */
export type TaskPriority = 'critical' | 'normal' | 'batch';

/**
 * A retry policy. On submit every field is optional and overrides the type's default.
 *
 * @example
 * const retry: Partial<RetryPolicy> = { maxAttempts: 5, backoff: 'exponential', initialDelayMs: 1000 };
 */
export interface RetryPolicy {
  /** Attempts in all, including the first (1 = no retry). */
  maxAttempts: number;
  backoff: 'fixed' | 'exponential';
  initialDelayMs: number;
  maxDelayMs: number;
  /** Full jitter on each delay (default true). */
  jitter?: boolean;
}

/**
 * A recurring schedule: a cron expression (5 or 6 fields, in an IANA time zone, default UTC)
 * or a fixed interval. `until` and `maxRuns` end it.
 *
 * @example
 * const nightly: Recurrence = { cron: '0 2 * * *', timezone: 'Europe/Paris' };
 * const everyMinute: Recurrence = { everySeconds: 60, maxRuns: 10 };
 */
export type Recurrence =
  | { cron: string; timezone?: string; until?: string; maxRuns?: number }
  | { everySeconds: number; until?: string; maxRuns?: number };

/**
 * Why an attempt or a task failed (`TASK_TIMEOUT`, a handler's own code, …).
 *
 * @example
 * if (task.error?.retryable === false) console.error(task.error.code, task.error.message);
 */
export interface TaskError {
  code: string;
  message: string;
  retryable: boolean;
  details?: Record<string, unknown>;
}

/**
 * One named stage of a task's run, with its result or error.
 *
 * @example
 * const failed = status.stages.filter((stage) => stage.status === 'failed');
 */
export interface TaskStage {
  name: string;
  status: 'running' | 'completed' | 'failed';
  startedAt: string;
  endedAt: string | null;
  result?: JsonValue;
  error?: TaskError;
}

/**
 * What the handler last reported.
 *
 * @example
 * if (task.progress) console.log(`${task.progress.percent}% ${task.progress.message ?? ''}`);
 */
export interface TaskProgress {
  percent: number;
  message: string | null;
}

/**
 * A task. A recurring task (`recurrence` set) is a schedule: it never runs itself but spawns
 * one run per occurrence (tasks whose `parentId` is its id).
 *
 * @example
 * const task: Task = await client.tasks.get('task_01J…');
 */
export interface Task {
  id: string;
  type: string;
  status: TaskStatus;
  priority: TaskPriority;
  payload: JsonValue;
  /** The current (or last) attempt, 0 before the first. */
  attempt: number;
  maxAttempts: number;
  progress: TaskProgress | null;
  stage: string | null;
  /** Not started before this time (the next try of a retry, the next occurrence of a schedule). */
  runAt: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** The application token id that submitted it (`system` for core used directly). */
  submitter: string;
  tags: string[];
  concurrencyKey: string | null;
  timeoutMs: number;
  parentId: string | null;
  recurrence: Recurrence | null;
  /** For a recurring task: occurrences spawned so far. */
  runCount: number;
  error: TaskError | null;
}

/**
 * Paths (below the server's root) of a task's resources; `cancel` is `self` with `DELETE`.
 *
 * @example
 * const { links } = await client.tasks.submit({ type: 'diagnostics.echo' });
 * console.log(`poll ${links.status}`);
 */
export interface TaskLinks {
  self: string;
  status: string;
  result: string;
  logs: string;
  cancel: string;
  /** Only on a recurring task. */
  runs?: string;
}

/**
 * A task as the single-task routes answer it (submit, get, cancel, retry, stop-recurring).
 *
 * @example
 * const task: TaskWithLinks = await client.tasks.retry(id);
 */
export interface TaskWithLinks extends Task {
  links: TaskLinks;
}

/**
 * `GET /api/tasks/{id}/status`: what a progress display needs.
 *
 * @example
 * const { status, progress, stage } = await client.tasks.status(id);
 */
export interface TaskStatusView {
  status: TaskStatus;
  attempt: number;
  progress: TaskProgress | null;
  stage: string | null;
  stages: TaskStage[];
  error: TaskError | null;
}

/**
 * `GET /api/tasks/{id}/result`: the handler's return value once completed; the stages so far
 * while it runs.
 *
 * @example
 * const { result } = await client.tasks.result(id);
 */
export interface TaskResultView {
  status: TaskStatus;
  result: JsonValue | null;
  stages: TaskStage[];
  error: TaskError | null;
}

/**
 * One log line of a task, numbered from 1 in order of writing.
 *
 * @example
 * for (const line of (await client.tasks.logs(id)).items) console.log(line.seq, line.level, line.message);
 */
export interface TaskLogLine {
  seq: number;
  at: string;
  level: 'info' | 'warn' | 'error';
  message: string;
  fields?: Record<string, JsonValue>;
}

/**
 * A slice of a task's log. Pass `nextAfter` back as `after` to read on (null: nothing was returned).
 *
 * @example
 * let after = 0;
 * const page: TaskLogPage = await client.tasks.logs(id, { after });
 * after = page.nextAfter ?? after;
 */
export interface TaskLogPage {
  items: TaskLogLine[];
  nextAfter: number | null;
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

/**
 * A registered task type, with the JSON Schema of its payload.
 *
 * @example
 * const echo = (await client.tasks.types()).find((t) => t.type === 'diagnostics.echo');
 */
export interface TaskTypeInfo {
  type: string;
  description: string | null;
  priority: TaskPriority;
  timeoutMs: number;
  retry: RetryPolicy;
  payloadSchema: Record<string, unknown>;
}

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
