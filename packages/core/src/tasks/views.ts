import type { TaskRecord } from '../storage/ports.js';
import type { Task, TaskResultView, TaskStatus, TaskStatusView } from './types.js';

export const FINAL_STATUSES: readonly TaskStatus[] = ['completed', 'failed', 'cancelled'];

export function isFinal(status: TaskStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

/** A stored task as clients see it (ISO times, no lease internals). */
export function toTask(record: TaskRecord): Task {
  return {
    id: record.id,
    type: record.type,
    status: record.status,
    priority: record.priority,
    payload: record.payload,
    attempt: record.attempt,
    maxAttempts: record.maxAttempts,
    progress: record.progress,
    stage: record.stage,
    runAt: record.runAt.toISOString(),
    createdAt: record.createdAt.toISOString(),
    startedAt: record.startedAt?.toISOString() ?? null,
    finishedAt: record.finishedAt?.toISOString() ?? null,
    submitter: record.submitter,
    tags: record.tags,
    concurrencyKey: record.concurrencyKey,
    timeoutMs: record.timeoutMs,
    parentId: record.parentId,
    recurrence: record.recurrence,
    runCount: record.runCount,
    error: record.error,
  };
}

export function toStatusView(record: TaskRecord): TaskStatusView {
  return {
    status: record.status,
    attempt: record.attempt,
    progress: record.progress,
    stage: record.stage,
    stages: record.stages,
    error: record.error,
  };
}

export function toResultView(record: TaskRecord): TaskResultView {
  return { status: record.status, result: record.result, stages: record.stages, error: record.error };
}
