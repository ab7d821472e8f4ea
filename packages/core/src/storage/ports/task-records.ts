/** The records, queries and outcomes the task engine's store (`TaskStore`, ./tasks.ts) reads and writes. */
import type { JsonValue } from '../../kv/types.js';
import type {
  Recurrence,
  RetryPolicy,
  TaskError,
  TaskLogLine,
  TaskPriority,
  TaskProgress,
  TaskStage,
  TaskStatus,
} from '../../tasks/types.js';
import type { ChangeContext } from './events.js';

/** A task row as stored (times are Dates). Schedules (recurring tasks) are rows too, never claimed. */
export interface TaskRecord {
  id: string;
  type: string;
  status: TaskStatus;
  priority: TaskPriority;
  payload: JsonValue;
  result: JsonValue | null;
  error: TaskError | null;
  attempt: number;
  maxAttempts: number;
  retry: RetryPolicy;
  timeoutMs: number;
  progress: TaskProgress | null;
  stage: string | null;
  stages: TaskStage[];
  runAt: Date;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  submitter: string;
  tags: string[];
  concurrencyKey: string | null;
  parentId: string | null;
  recurrence: Recurrence | null;
  /** True for the row of a recurring task: it spawns runs and is never claimed itself. */
  isSchedule: boolean;
  runCount: number;
  idempotencyKey: string | null;
  cancelRequested: boolean;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  /** Position in the start-time fair queue of its priority (smaller runs first). */
  fairSeq: number;
}

/**
 * What a worker needs of a task it claimed, to run it and write its outcome: a claim answers
 * only this (on PostgreSQL every other column would be encoded, sent and parsed for nothing).
 */
export type ClaimedTask = Pick<
  TaskRecord,
  'id' | 'type' | 'priority' | 'payload' | 'attempt' | 'maxAttempts' | 'retry' | 'timeoutMs' | 'concurrencyKey'
>;

/** What a submit writes; the store adds status `pending`, attempt 0, fairSeq and createdAt. */
export interface NewTask {
  id: string;
  type: string;
  priority: TaskPriority;
  payload: JsonValue;
  maxAttempts: number;
  retry: RetryPolicy;
  timeoutMs: number;
  runAt: Date;
  submitter: string;
  tags: string[];
  concurrencyKey: string | null;
  parentId: string | null;
  recurrence: Recurrence | null;
  isSchedule: boolean;
  idempotencyKey: string | null;
}

export interface TaskListQuery {
  status?: TaskStatus;
  type?: string;
  priority?: TaskPriority;
  tag?: string;
  submitter?: string;
  parentId?: string;
  /** Newest first: only ids below this one (keyset pagination). */
  beforeId?: string;
  limit: number;
}

/** The three kinds of worker slot; each serves priorities in its own order (see the worker). */
export type SlotClass = TaskPriority;

export interface ClaimRequest {
  workerId: string;
  slotClass: SlotClass;
  limit: number;
  /** Task types this process has handlers for. */
  types: readonly string[];
  leaseExpiresAt: Date;
  /** Batch tasks due at or before this time have aged: normal slots take them before normal work. */
  agedBefore: Date;
  /**
   * Claim only this task (a submit notification named it), when the class's claim could take
   * it: pending, due, of a handled type and of a priority in the class's order, its
   * concurrency key free. `limit` is then 1.
   */
  taskId?: string;
}

/** Live progress of a running task, written only while `workerId` holds its lease. */
export interface TaskProgressUpdate {
  progress: TaskProgress | null;
  stage: string | null;
  stages: TaskStage[];
}

/**
 * How an attempt ended. `release` puts the task back in line without spending the attempt
 * (preemption, shutdown). When cancellation was requested meanwhile, every outcome becomes
 * `cancelled` in the store.
 */
export interface TaskOutcome extends TaskProgressUpdate {
  id: string;
  /** The attempt this outcome belongs to: a re-claimed task's older attempt can write nothing. */
  attempt: number;
  status: 'completed' | 'pending' | 'failed' | 'cancelled';
  release: boolean;
  result: JsonValue | null;
  error: TaskError | null;
  /** For `pending` (a retry): when the next attempt may start. */
  runAt: Date | null;
}

/** The events a progress write announces (appended only when the write applies). */
export interface ProgressAnnouncement {
  change: ChangeContext;
  events: readonly { type: 'task.progress' | 'task.stage'; extra?: Record<string, JsonValue> }[];
}

export interface NewLogLine {
  at: Date;
  level: TaskLogLine['level'];
  message: string;
  fields?: Record<string, JsonValue>;
}
