/**
 * The memory store's task records: how one is made, copied for callers and matched by a list
 * query, and how its fields change when it is claimed, finished or its lease expires. These
 * change the record only; moving it in and out of line is the store's (see task-lineup).
 */
import type { TaskStatus } from '../../tasks/types.js';
import type { ClaimRequest, NewTask, TaskListQuery, TaskOutcome, TaskRecord } from '../ports.js';

/** The statuses a task does not leave (except by a retry). */
export const FINAL: ReadonlySet<TaskStatus> = new Set(['completed', 'failed', 'cancelled']);

/** A copy for callers: the store's records are never handed out. */
export function copy(record: TaskRecord): TaskRecord {
  return structuredClone(record);
}

/** A new pending task's record. */
export function newTaskRecord(task: NewTask, now: Date, fairSeq: number): TaskRecord {
  return {
    ...structuredClone(task),
    status: 'pending',
    result: null,
    error: null,
    attempt: 0,
    progress: null,
    stage: null,
    stages: [],
    createdAt: new Date(now),
    startedAt: null,
    finishedAt: null,
    runCount: 0,
    cancelRequested: false,
    leaseOwner: null,
    leaseExpiresAt: null,
    fairSeq,
  };
}

/** Whether a task passes the list query's filters (`beforeId` and `limit` are the caller's). */
export function matchesListQuery(r: TaskRecord, query: TaskListQuery): boolean {
  if (query.status !== undefined && r.status !== query.status) return false;
  if (query.type !== undefined && r.type !== query.type) return false;
  if (query.priority !== undefined && r.priority !== query.priority) return false;
  if (query.tag !== undefined && !r.tags.includes(query.tag)) return false;
  if (query.submitter !== undefined && r.submitter !== query.submitter) return false;
  if (query.parentId !== undefined && r.parentId !== query.parentId) return false;
  return true;
}

/** A claimed task: running a new attempt under the claimer's lease. */
export function markClaimed(r: TaskRecord, request: ClaimRequest, now: Date): void {
  Object.assign(r, {
    status: 'running',
    attempt: r.attempt + 1,
    leaseOwner: request.workerId,
    leaseExpiresAt: new Date(request.leaseExpiresAt),
    startedAt: new Date(now),
    progress: null,
    stage: null,
    stages: [],
  } satisfies Partial<TaskRecord>);
}

/**
 * Writes an attempt's outcome; returns the status written. A cancel request wins over any
 * outcome; a release gives the attempt back, a retry may move run_at.
 */
export function applyOutcome(r: TaskRecord, outcome: TaskOutcome, now: Date): TaskStatus {
  const status = r.cancelRequested ? 'cancelled' : outcome.status;
  Object.assign(r, {
    status,
    progress: outcome.progress,
    stage: outcome.stage,
    stages: structuredClone(outcome.stages),
    result: structuredClone(outcome.result),
    error: outcome.error,
    leaseOwner: null,
    leaseExpiresAt: null,
    finishedAt: FINAL.has(status) ? new Date(now) : null,
  } satisfies Partial<TaskRecord>);
  if (status === 'pending') {
    if (outcome.release) {
      r.attempt -= 1;
      r.startedAt = null;
    } else if (outcome.runAt) {
      r.runAt = new Date(outcome.runAt);
    }
  }
  return status;
}

/** A running task whose lease expired: pending again, or failed when out of attempts. Returns the status. */
export function markLeaseExpired(r: TaskRecord, now: Date): TaskStatus {
  const exhausted = r.attempt >= r.maxAttempts;
  const status: TaskStatus = r.cancelRequested ? 'cancelled' : exhausted ? 'failed' : 'pending';
  Object.assign(r, {
    status,
    leaseOwner: null,
    leaseExpiresAt: null,
    error: {
      code: 'LEASE_EXPIRED',
      message: 'the process running the task stopped renewing its lease',
      retryable: true,
    },
    finishedAt: status === 'pending' ? null : new Date(now),
  } satisfies Partial<TaskRecord>);
  return status;
}
