/**
 * The task wire format (SPEC §3), declared here on purpose: the SDK knows only what travels
 * over HTTP. Times are ISO 8601 UTC strings; durations carry their unit in the name.
 */
import type { JsonValue } from './types.js';

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
