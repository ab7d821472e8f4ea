import { EventEmitter } from 'node:events';
import type { TaskAbortReason } from './task-error.js';
import type { TaskError, TaskPriority, TaskProgress } from './types.js';

/**
 * What the engine of THIS process reports (submits made here, attempts run here, loops run
 * here). Tests and the HTTP host wait on these; cross-node events come with the event log.
 */
export interface TaskEventMap {
  'task.submitted': { id: string; type: string; priority: TaskPriority };
  'task.started': { id: string; type: string; attempt: number };
  'task.progress': { id: string; progress: TaskProgress | null; stage: string | null };
  'task.retrying': { id: string; type: string; attempt: number; error: TaskError | null };
  'task.completed': { id: string; type: string };
  'task.failed': { id: string; type: string; error: TaskError | null };
  'task.cancelled': { id: string; type: string };
  /** Back in line without spending an attempt (preemption or shutdown). */
  'task.released': { id: string; type: string; reason: TaskAbortReason };
  /** A background loop or a store write failed; the engine carries on. */
  error: { where: string; error: unknown };
}

export type TaskEventName = keyof TaskEventMap;

/**
 * A typed event emitter.
 *
 * @example
 * const off = core.tasks.on('task.completed', ({ id }) => console.log(id, 'done'));
 * off();
 */
export interface TaskEvents {
  on<K extends TaskEventName>(event: K, listener: (payload: TaskEventMap[K]) => void): () => void;
  off<K extends TaskEventName>(event: K, listener: (payload: TaskEventMap[K]) => void): void;
}

/** The emitter behind {@link TaskEvents}; `emit` stays inside core. */
export class TaskEventEmitter implements TaskEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    // Many waiters (one per `waitForFinal`) may listen at once.
    this.emitter.setMaxListeners(0);
  }

  on<K extends TaskEventName>(event: K, listener: (payload: TaskEventMap[K]) => void): () => void {
    this.emitter.on(event, listener);
    return () => this.off(event, listener);
  }

  off<K extends TaskEventName>(event: K, listener: (payload: TaskEventMap[K]) => void): void {
    this.emitter.off(event, listener);
  }

  emit<K extends TaskEventName>(event: K, payload: TaskEventMap[K]): void {
    // A throwing listener must not break the worker that reports the event.
    try {
      this.emitter.emit(event, payload);
    } catch (error) {
      if (event !== 'error') this.emit('error', { where: `listener of ${event}`, error });
    }
  }

  hasListeners(event: TaskEventName): boolean {
    return this.emitter.listenerCount(event) > 0;
  }
}
