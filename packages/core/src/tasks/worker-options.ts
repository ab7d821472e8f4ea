/** The task worker's settings and the notifier channels it listens on. */
import type { Clock } from '../clock.js';
import type { Ids } from '../ids.js';
import type { Notifier, SlotClass, TaskStore } from '../storage/ports.js';
import type { TaskEventEmitter } from './events.js';
import type { TaskRegistry } from './registry.js';

/** Notifier channels of the task engine. */
export const TASK_CHANNELS = { submitted: 'tasks', cancel: 'task_cancel' } as const;

/** What a `submitted` notification says. */
export interface SubmittedNotice {
  priority: string;
  /** The worker that announced it: it already woke locally and ignores its own notification. */
  origin: string;
  /** The task, when the notification is for exactly one (an idle worker claims it by id). */
  taskId?: string;
}

/**
 * The payload of a `submitted` notification: the priority, the announcing worker's id and,
 * for a single task, its id, separated by spaces (ids have none).
 *
 * @example
 * submittedPayload({ priority: 'normal', origin: 'wrk_1', taskId: 'tsk_1' }); // 'normal wrk_1 tsk_1'
 */
export function submittedPayload({ priority, origin, taskId }: SubmittedNotice): string {
  return taskId === undefined ? `${priority} ${origin}` : `${priority} ${origin} ${taskId}`;
}

/** Reads a `submitted` notification's payload (see {@link submittedPayload}). */
export function parseSubmittedPayload(payload: string): SubmittedNotice {
  const [priority = '', origin = '', taskId] = payload.split(' ');
  return taskId ? { priority, origin, taskId } : { priority, origin };
}

export interface WorkerOptions {
  store: TaskStore;
  notifier: Notifier;
  clock: Clock;
  /** Event ids (claims and outcomes append `task.*` events). */
  ids: Ids;
  events: TaskEventEmitter;
  registry: TaskRegistry;
  workerId: string;
  slots: Record<SlotClass, number>;
  leaseMs: number;
  heartbeatMs: number;
  pollIntervalMs: number;
  batchAgingMs: number;
  logCap: number;
  progressIntervalMs: number;
  shutdownGraceMs: number;
  random: () => number;
}
