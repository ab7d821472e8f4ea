import type { z } from 'zod';
import type { Principal } from '../auth/types.js';
import type { JsonValue } from '../kv/types.js';
import type { Page } from '../pagination.js';
import type { TaskEvents } from './events.js';

export type TaskStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';
export type TaskPriority = 'critical' | 'normal' | 'batch';

/** Retry policy of a task type, overridable per submission. */
export interface RetryPolicy {
  /** Attempts in all, including the first (1 = no retry). */
  maxAttempts: number;
  backoff: 'fixed' | 'exponential';
  initialDelayMs: number;
  maxDelayMs: number;
  /** Full jitter on each delay (default true). */
  jitter?: boolean;
}

/** A recurring schedule: either a cron expression (with an IANA time zone) or a fixed interval. */
export type Recurrence =
  | { cron: string; timezone?: string; until?: string; maxRuns?: number }
  | { everySeconds: number; until?: string; maxRuns?: number };

/** How a failed attempt or a failed task is described. Never contains secrets or stack traces. */
export interface TaskError {
  code: string;
  message: string;
  retryable: boolean;
  details?: Record<string, unknown>;
}

export interface TaskStage {
  name: string;
  status: 'running' | 'completed' | 'failed';
  startedAt: string;
  endedAt: string | null;
  result?: JsonValue;
  error?: TaskError;
}

export interface TaskProgress {
  percent: number;
  message: string | null;
}

/** A task as clients see it (SPEC §3). */
export interface Task {
  id: string;
  type: string;
  status: TaskStatus;
  priority: TaskPriority;
  payload: JsonValue;
  attempt: number;
  maxAttempts: number;
  progress: TaskProgress | null;
  stage: string | null;
  runAt: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  submitter: string;
  tags: string[];
  concurrencyKey: string | null;
  timeoutMs: number;
  /** Set on the runs a recurring task spawns. */
  parentId: string | null;
  /** Set on a recurring task (the schedule itself; its runs are separate tasks). */
  recurrence: Recurrence | null;
  /** For a recurring task: occurrences spawned so far. */
  runCount: number;
  error: TaskError | null;
}

export interface TaskStatusView {
  status: TaskStatus;
  attempt: number;
  progress: TaskProgress | null;
  stage: string | null;
  stages: TaskStage[];
  error: TaskError | null;
}

export interface TaskResultView {
  status: TaskStatus;
  result: JsonValue | null;
  stages: TaskStage[];
  error: TaskError | null;
}

export interface TaskLogLine {
  seq: number;
  at: string;
  level: 'info' | 'warn' | 'error';
  message: string;
  fields?: Record<string, JsonValue>;
}

/** What a handler gets. `signal` aborts on cancel, timeout, preemption and shutdown. */
export interface TaskContext<P = unknown> {
  taskId: string;
  type: string;
  payload: P;
  attempt: number;
  signal: AbortSignal;
  /** Reports progress; writes are coalesced, so calling it often is cheap. */
  progress(percent: number, message?: string): void;
  /** Runs `fn` as a named stage whose status, times and result (or error) are recorded. */
  stage<T>(name: string, fn: () => Promise<T> | T): Promise<T>;
  log: {
    info(message: string, fields?: Record<string, JsonValue>): void;
    warn(message: string, fields?: Record<string, JsonValue>): void;
    error(message: string, fields?: Record<string, JsonValue>): void;
  };
}

/** Registers a task type. */
export interface TaskDefinition<S extends z.ZodType = z.ZodType> {
  type: string;
  /** Validates submitted payloads (422 `INVALID_PAYLOAD` with field errors) and feeds the JSON Schema of `GET /api/task-types`. */
  payload: S;
  description?: string;
  priority?: TaskPriority;
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  run(ctx: TaskContext<z.output<S>>): Promise<unknown> | unknown;
}

export interface TaskTypeInfo {
  type: string;
  description: string | null;
  priority: TaskPriority;
  timeoutMs: number;
  retry: RetryPolicy;
  payloadSchema: Record<string, unknown>;
}

export interface SubmitTaskInput {
  type: string;
  payload?: unknown;
  priority?: TaskPriority;
  /** ISO 8601; the task is not started before. */
  runAt?: string;
  recurrence?: Recurrence;
  retry?: Partial<RetryPolicy>;
  timeoutMs?: number;
  concurrencyKey?: string;
  tags?: string[];
  /** Resubmitting with the same key (same submitter, within 24 h) returns the original task. */
  idempotencyKey?: string;
}

export interface ListTasksOptions {
  status?: TaskStatus;
  type?: string;
  priority?: TaskPriority;
  tag?: string;
  submitter?: string;
  parentId?: string;
  cursor?: string;
  limit?: number;
}

/**
 * The task engine (SPEC §3). Reached as `core.tasks`. Methods that act for a client take the
 * acting principal (scopes `tasks:read` / `tasks:write`, narrowable by task type).
 *
 * @example
 * core.tasks.define({ type: 'report.build', payload: z.object({ id: z.string() }), async run(ctx) {
 *   await ctx.stage('fetch', () => fetchData(ctx.payload.id));
 *   return { ok: true };
 * } });
 * const task = await core.tasks.submit(SYSTEM_PRINCIPAL, { type: 'report.build', payload: { id: 'r1' } });
 */
export interface TaskService {
  define<S extends z.ZodType>(definition: TaskDefinition<S>): void;
  types(): TaskTypeInfo[];
  submit(actor: Principal, input: SubmitTaskInput): Promise<Task>;
  get(actor: Principal, id: string): Promise<Task>;
  list(actor: Principal, options?: ListTasksOptions): Promise<Page<Task>>;
  status(actor: Principal, id: string): Promise<TaskStatusView>;
  result(actor: Principal, id: string): Promise<TaskResultView>;
  logs(
    actor: Principal,
    id: string,
    options?: { after?: number; limit?: number },
  ): Promise<{ items: TaskLogLine[]; nextAfter: number | null }>;
  /** Pending: cancelled at once. Running: its signal aborts; `cancelled` once the handler stops. Final: TASK_NOT_CANCELLABLE. */
  cancel(actor: Principal, id: string): Promise<Task>;
  /** Re-runs a failed or cancelled task (a new attempt budget); others: CONFLICT. */
  retry(actor: Principal, id: string): Promise<Task>;
  stopRecurring(actor: Principal, id: string): Promise<Task>;
  runs(actor: Principal, id: string, options?: { cursor?: string; limit?: number }): Promise<Page<Task>>;
  /** Resolves with the task once it is final, or with its current state after `timeoutMs`. */
  waitForFinal(id: string, timeoutMs: number): Promise<Task>;
  /** Pending counts per priority (for `GET /api`). */
  queueDepths(): Promise<Record<TaskPriority, number>>;
}

/**
 * What `core.tasks` offers beyond {@link TaskService}: bulk submit, the typed events of this
 * process, and control of the worker and background passes (for tests and embedding apps).
 *
 * @example
 * core.tasks.on('task.completed', ({ id }) => console.log('done', id));
 * await core.tasks.submitMany(SYSTEM_PRINCIPAL, inputs);
 */
export interface TaskEngine extends TaskService, TaskEvents {
  /** Submits many tasks at once (validated all first: one bad item writes nothing). Same order as `inputs`. */
  submitMany(actor: Principal, inputs: readonly SubmitTaskInput[]): Promise<Task[]>;
  /** Claims now instead of at the next wake-up (e.g. after moving a test clock). */
  wake(): void;
  /** This process's worker id (the lease owner of the tasks it runs). */
  readonly workerId: string;
  /** Ids of the tasks running in this process. */
  runningIds(): string[];
  /** Each background pass, run once now (the loops run them on their own timers). */
  readonly maintenance: {
    reapExpiredLeases(): Promise<number>;
    spawnDueOccurrences(): Promise<number>;
    purgeFinished(): Promise<number>;
  };
  /** Stops the worker and the loops (running handlers are aborted and go back in line). */
  stop(): Promise<void>;
}
