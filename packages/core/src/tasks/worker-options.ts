/** The task worker's settings and the notifier channels it listens on. */
import type { Clock } from '../clock.js';
import type { Ids } from '../ids.js';
import type { Notifier, SlotClass, TaskStore } from '../storage/ports.js';
import type { TaskEventEmitter } from './events.js';
import type { TaskRegistry } from './registry.js';

/** Notifier channels of the task engine. */
export const TASK_CHANNELS = { submitted: 'tasks', cancel: 'task_cancel' } as const;

/**
 * The payload of a `submitted` notification: the priority, then the id of the worker that
 * announced it, which already woke locally and ignores its own notification.
 */
export function submittedPayload(priority: string, origin: string): string {
  return `${priority} ${origin}`;
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
