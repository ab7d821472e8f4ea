import type { Clock } from '../clock.js';
import type { Ids } from '../ids.js';
import type { ChangeContext, NewTask, Notifier, TaskRecord, TaskStore, WakeUp } from '../storage/ports.js';
import { publishWakeUps } from '../storage/wake-ups.js';
import type { TaskEventEmitter } from './events.js';
import { followingOccurrence } from './recurrence.js';
import { submittedPayload, TASK_CHANNELS } from './worker-options.js';

export interface MaintenanceOptions {
  store: TaskStore;
  notifier: Notifier;
  clock: Clock;
  ids: Ids;
  events: TaskEventEmitter;
  retentionMs: number;
  /** Called after work became claimable here (a local wake-up, no round trip). */
  wakeLocal: (critical: boolean) => void;
  /** This process's worker id: its own notifications are ignored (it woke locally). */
  workerId: string;
}

/** Rows per statement of the reaper, scheduler and purge passes. */
const BATCH = 500;

/**
 * The background passes any node may run (each is safe to run on several nodes at once):
 * lease reaper, scheduler and retention purge. Each pass works in batches until done.
 */
export class TaskMaintenance {
  constructor(private readonly options: MaintenanceOptions) {}

  /** Re-queues (or fails, when out of attempts) running tasks whose lease expired. Returns how many. */
  async reapExpiredLeases(): Promise<number> {
    const { store, clock, events } = this.options;
    let total = 0;
    for (;;) {
      const reaped = await store.reapExpiredLeases(clock.now(), BATCH, this.change());
      total += reaped.length;
      for (const r of reaped) {
        if (r.status === 'failed') events.emit('task.failed', { id: r.id, type: r.type, error: r.error });
        else if (r.status === 'cancelled') events.emit('task.cancelled', { id: r.id, type: r.type });
        else events.emit('task.retrying', { id: r.id, type: r.type, attempt: r.attempt, error: r.error });
      }
      await this.announce(reaped.filter((r) => r.status === 'pending'));
      if (reaped.length < BATCH) return total;
    }
  }

  /**
   * Spawns one run per due schedule and moves the schedule to its next occurrence, computed
   * from now (see {@link followingOccurrence}: missed occurrences give one run, not a burst).
   * Returns how many runs were spawned.
   */
  async spawnDueOccurrences(): Promise<number> {
    const { store, clock, ids, events } = this.options;
    let total = 0;
    for (;;) {
      const now = clock.now();
      const due = await store.dueSchedules(now, BATCH);
      const spawned: TaskRecord[] = [];
      for (const schedule of due) {
        if (!schedule.recurrence) continue;
        const next = followingOccurrence(schedule.recurrence, schedule.runAt, now, schedule.runCount + 1);
        const child = await store.spawnOccurrence(
          schedule.id,
          schedule.runAt,
          runOf(schedule, ids.next('task')),
          next,
          now,
          this.change(),
        );
        if (!child) continue;
        spawned.push(child);
        events.emit('task.submitted', { id: child.id, type: child.type, priority: child.priority });
      }
      total += spawned.length;
      await this.announce(spawned);
      if (due.length < BATCH) return total;
    }
  }

  /** Deletes final tasks (results, stages, logs) older than the retention. Returns how many. */
  async purgeFinished(): Promise<number> {
    const { store, clock, retentionMs } = this.options;
    let total = 0;
    for (;;) {
      const purged = await store.purgeFinished(new Date(clock.now().getTime() - retentionMs), BATCH);
      total += purged;
      if (purged < BATCH) return total;
    }
  }

  /** Background passes act as the system. */
  private change(): ChangeContext {
    return { actor: 'system', ids: this.options.ids };
  }

  /** Wakes workers here and on other nodes for newly claimable tasks. */
  async announce(records: readonly Pick<TaskRecord, 'id' | 'priority'>[]): Promise<void> {
    this.wakeLocal(records);
    await publishWakeUps(this.options.notifier, this.wakeUps(records));
  }

  /** Wakes this process's worker for these newly due tasks (no round trip). */
  wakeLocal(records: readonly Pick<TaskRecord, 'priority'>[]): void {
    for (const priority of new Set(records.map((r) => r.priority))) this.options.wakeLocal(priority === 'critical');
  }

  /**
   * The notifications that wake the other processes' workers for these newly due tasks: one per
   * priority, naming the task when it is the only one of its priority (an idle worker then
   * claims it by id, see TaskWorker).
   */
  wakeUps(records: readonly Pick<TaskRecord, 'id' | 'priority'>[]): WakeUp[] {
    // Per priority, its only task's id, or null once it has several.
    const onlyTask = new Map<string, string | null>();
    for (const { id, priority } of records) onlyTask.set(priority, onlyTask.has(priority) ? null : id);
    return [...onlyTask].map(([priority, taskId]) => ({
      channel: TASK_CHANNELS.submitted,
      payload: submittedPayload({ priority, origin: this.options.workerId, ...(taskId === null ? {} : { taskId }) }),
    }));
  }
}

/** The run a schedule spawns for one occurrence: its settings, no recurrence, linked by parentId. */
function runOf(schedule: TaskRecord, id: string): NewTask {
  return {
    id,
    type: schedule.type,
    priority: schedule.priority,
    payload: schedule.payload,
    maxAttempts: schedule.maxAttempts,
    retry: schedule.retry,
    timeoutMs: schedule.timeoutMs,
    runAt: schedule.runAt,
    submitter: schedule.submitter,
    tags: schedule.tags,
    concurrencyKey: schedule.concurrencyKey,
    parentId: schedule.id,
    recurrence: null,
    isSchedule: false,
    idempotencyKey: null,
  };
}
