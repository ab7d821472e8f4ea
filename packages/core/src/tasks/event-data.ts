import type { JsonValue } from '../kv/types.js';
import { newEvent } from '../storage/change-context.js';
import type { ChangeContext, NewEvent, TaskRecord } from '../storage/ports.js';
import type { TaskStatus } from './types.js';

/** The task event types (SPEC §4), plus `task.released` (back in line without spending an attempt). */
export const TASK_EVENTS = {
  submitted: 'task.submitted',
  started: 'task.started',
  progress: 'task.progress',
  stage: 'task.stage',
  log: 'task.log',
  retrying: 'task.retrying',
  released: 'task.released',
  completed: 'task.completed',
  failed: 'task.failed',
  cancelled: 'task.cancelled',
} as const;

export type TaskEventType = (typeof TASK_EVENTS)[keyof typeof TASK_EVENTS];

/** Log lines (and characters per line) a `task.log` event carries; the full log is at /logs. */
export const TASK_LOG_EVENT_LINES = 20;
export const TASK_LOG_EVENT_MESSAGE_CHARS = 500;

/**
 * The `data` of every task event: `{id, type, status, priority, attempt, progress, stage,
 * error}` (null when unset), never the payload or result. The PostgreSQL store builds the same
 * object in SQL (`taskEventDataSql`).
 *
 * @example
 * taskEventData(record); // { id: 'task_…', type: 'report.build', status: 'running', … }
 */
export function taskEventData(record: TaskRecord, extra: Record<string, JsonValue> = {}): JsonValue {
  return {
    id: record.id,
    type: record.type,
    status: record.status,
    priority: record.priority,
    attempt: record.attempt,
    progress: record.progress === null ? null : { ...record.progress },
    stage: record.stage,
    error: record.error === null ? null : (structuredClone(record.error) as unknown as JsonValue),
    ...extra,
  };
}

/** The event type of a written attempt outcome (or reaped lease). */
export function outcomeEventType(status: TaskStatus, release: boolean): TaskEventType {
  if (status === 'pending') return release ? TASK_EVENTS.released : TASK_EVENTS.retrying;
  if (status === 'completed') return TASK_EVENTS.completed;
  if (status === 'cancelled') return TASK_EVENTS.cancelled;
  return TASK_EVENTS.failed;
}

/**
 * One task event (subject: the task id).
 *
 * @example
 * taskEvent(change, TASK_EVENTS.started, record, now);
 */
export function taskEvent(
  change: ChangeContext,
  type: TaskEventType,
  record: TaskRecord,
  at: Date,
  extra?: Record<string, JsonValue>,
): NewEvent {
  return newEvent(change, type, record.id, taskEventData(record, extra), at);
}
