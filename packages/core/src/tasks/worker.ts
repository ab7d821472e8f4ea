import type { Clock } from '../clock.js';
import type { Notifier, SlotClass, TaskOutcome, TaskRecord, TaskStore } from '../storage/ports.js';
import { AttemptReporter } from './attempt-reporter.js';
import type { TaskEventEmitter } from './events.js';
import type { TaskRegistry } from './registry.js';
import { runAttempt } from './run-attempt.js';
import { TaskAbortError, type TaskAbortReason } from './task-error.js';

/** Notifier channels of the task engine. */
export const TASK_CHANNELS = { submitted: 'tasks', cancel: 'task_cancel' } as const;

export interface WorkerOptions {
  store: TaskStore;
  notifier: Notifier;
  clock: Clock;
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

interface RunningTask {
  record: TaskRecord;
  slotClass: SlotClass;
  controller: AbortController;
  /** Start order in this process: preemption picks the most recently started batch task. */
  order: number;
  done: Promise<void>;
}

const SLOT_CLASSES: readonly SlotClass[] = ['critical', 'normal', 'batch'];
/** Outcomes written per statement. */
const FINISH_BATCH = 500;

/**
 * The worker of one process: slots per priority class, claims (batched: as many as free
 * slots), heartbeats, preemption and buffered completions.
 *
 * Wake-ups: a submit notification (LISTEN/NOTIFY across processes), a freed slot, a written
 * outcome, or the poll timer (the fallback when a notification is lost).
 *
 * Preemption: when a critical task is due and no slot of this process is free, the most
 * recently started batch task here is aborted (`preempted`) and goes back in line without
 * spending an attempt; its freed slot claims, critical first. Several processes may preempt
 * for the same critical task: that wastes some batch work (it re-runs later), never
 * correctness, since the claim itself is exclusive.
 */
export class TaskWorker {
  private readonly running = new Map<string, RunningTask>();
  private readonly used: Record<SlotClass, number> = { critical: 0, normal: 0, batch: 0 };
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unsubscribers: (() => Promise<void>)[] = [];
  private outcomes: { outcome: TaskOutcome; record: TaskRecord; reason: TaskAbortReason | null }[] = [];
  private flushing: Promise<void> | undefined;
  private pumping: Promise<void> | undefined;
  private again = false;
  private criticalHint = true;
  private stopped = false;
  private started: Promise<void> | undefined;
  private startCounter = 0;

  constructor(private readonly options: WorkerOptions) {}

  get capacity(): number {
    return SLOT_CLASSES.reduce((sum, c) => sum + this.options.slots[c], 0);
  }

  start(): Promise<void> {
    this.started ??= this.subscribeAndRun();
    return this.started;
  }

  /** Ids of the tasks running in this process. */
  runningIds(): string[] {
    return [...this.running.keys()];
  }

  /** Claims now (and checks for preemption when `critical`). */
  wake(critical = false): void {
    if (critical) this.criticalHint = true;
    if (this.stopped) return;
    this.again = true;
    if (!this.pumping) this.pumping = this.pump();
  }

  /** Aborts a task running here (cancel requested, possibly from another process). */
  abort(id: string, reason: TaskAbortReason): void {
    const task = this.running.get(id);
    if (task && !task.controller.signal.aborted) task.controller.abort(new TaskAbortError(reason));
  }

  /** Stops claiming, aborts running handlers (`shutdown`: they go back in line), writes their outcomes. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    await this.started?.catch(() => {});
    await Promise.allSettled(this.unsubscribers.map((unsubscribe) => unsubscribe()));
    await this.pumping;
    for (const id of this.running.keys()) this.abort(id, 'shutdown');
    const all = Promise.allSettled([...this.running.values()].map((task) => task.done));
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise((resolve) => (grace = setTimeout(resolve, this.options.shutdownGraceMs)))]);
    clearTimeout(grace);
    while (this.flushing) await this.flushing;
  }

  private async subscribeAndRun(): Promise<void> {
    const { notifier, pollIntervalMs, heartbeatMs } = this.options;
    this.unsubscribers.push(
      await notifier.subscribe(TASK_CHANNELS.submitted, (priority) => this.wake(priority === 'critical')),
      await notifier.subscribe(TASK_CHANNELS.cancel, (id) => this.abort(id, 'cancelled')),
    );
    if (this.stopped) return;
    const poll = setInterval(() => this.wake(true), pollIntervalMs);
    const heartbeat = setInterval(() => void this.heartbeat(), heartbeatMs);
    poll.unref?.();
    heartbeat.unref?.();
    this.timers.push(poll, heartbeat);
    this.wake(true);
  }

  private free(slotClass: SlotClass): number {
    return this.options.slots[slotClass] - this.used[slotClass];
  }

  /**
   * Claim rounds until no wake-up arrived during the last one. `pumping` is cleared in the same
   * synchronous step as the final `again` check, so a wake-up is never lost between the two.
   */
  private async pump(): Promise<void> {
    try {
      while (this.again && !this.stopped) {
        this.again = false;
        await this.claimRound();
      }
    } catch (error) {
      // The poll timer (or the next wake-up) tries again.
      this.options.events.emit('error', { where: 'task claim', error });
    } finally {
      this.pumping = undefined;
    }
  }

  private async claimRound(): Promise<void> {
    const { store, clock, registry, workerId, leaseMs, batchAgingMs } = this.options;
    const types = registry.typeNames();
    for (const slotClass of SLOT_CLASSES) {
      const limit = this.free(slotClass);
      if (limit <= 0 || this.stopped) continue;
      const now = clock.now();
      const claimed = await store.claim(
        {
          workerId,
          slotClass,
          limit,
          types,
          leaseExpiresAt: new Date(now.getTime() + leaseMs),
          agedBefore: new Date(now.getTime() - batchAgingMs),
        },
        now,
      );
      for (const record of claimed) this.run(record, slotClass);
    }
    const critical = this.criticalHint;
    this.criticalHint = false;
    if (critical && !this.stopped && SLOT_CLASSES.every((c) => this.free(c) <= 0)) await this.preemptIfNeeded();
  }

  private async preemptIfNeeded(): Promise<void> {
    const tasks = [...this.running.values()];
    const preempting = tasks.filter((t) => t.controller.signal.reason?.reason === 'preempted').length;
    const candidates = tasks
      .filter((t) => t.record.priority === 'batch' && !t.controller.signal.aborted)
      .sort((a, b) => b.order - a.order);
    if (candidates.length === 0) return;
    const { store, clock, registry } = this.options;
    const waiting = await store.countDueCritical(clock.now(), registry.typeNames(), candidates.length + preempting);
    const toPreempt = candidates.slice(0, Math.max(0, waiting - preempting));
    for (const task of toPreempt) this.abort(task.record.id, 'preempted');
  }

  private run(record: TaskRecord, slotClass: SlotClass): void {
    const { store, clock, events, workerId, logCap, progressIntervalMs, registry, random } = this.options;
    const controller = new AbortController();
    if (this.stopped) controller.abort(new TaskAbortError('shutdown'));
    this.used[slotClass]++;
    const reporter = new AttemptReporter({
      store,
      clock,
      events,
      workerId,
      taskId: record.id,
      attempt: record.attempt,
      logCap,
      progressIntervalMs,
    });
    // This process still runs an older attempt of the task: its lease expired and the reaper
    // re-queued it before our heartbeat noticed. That attempt is void (its writes carry the old
    // attempt number and are refused); make sure its handler hears so.
    this.abort(record.id, 'lease lost');
    const task: RunningTask = { record, slotClass, controller, order: this.startCounter++, done: Promise.resolve() };
    this.running.set(record.id, task);
    events.emit('task.started', { id: record.id, type: record.type, attempt: record.attempt });
    const attempt = controller.signal.aborted
      ? Promise.resolve<TaskOutcome>({
          id: record.id,
          attempt: record.attempt,
          status: 'pending',
          release: true,
          result: null,
          error: null,
          runAt: null,
          ...reporter.snapshot(),
        })
      : runAttempt(record, registry.get(record.type), controller, reporter, { clock, random });
    task.done = attempt.then((outcome) => {
      if (this.running.get(record.id) === task) this.running.delete(record.id);
      this.used[slotClass]--;
      const reason = controller.signal.reason instanceof TaskAbortError ? controller.signal.reason.reason : null;
      if (outcome) this.enqueue({ outcome, record, reason });
      this.wake();
    });
  }

  private enqueue(entry: { outcome: TaskOutcome; record: TaskRecord; reason: TaskAbortReason | null }): void {
    this.outcomes.push(entry);
    this.flushing ??= this.flush().finally(() => {
      this.flushing = undefined;
      // A written outcome may unblock a concurrency key or free a retry.
      this.wake();
    });
  }

  /**
   * Writes outcomes in batches: while one write is in flight, the next outcomes gather, so a
   * busy worker writes many per statement and an idle one writes at once.
   */
  private async flush(): Promise<void> {
    const { store, clock, events, workerId } = this.options;
    let failures = 0;
    while (this.outcomes.length > 0) {
      const batch = this.outcomes.slice(0, FINISH_BATCH);
      try {
        const written = await store.finish(
          workerId,
          batch.map((b) => b.outcome),
          clock.now(),
        );
        this.outcomes.splice(0, batch.length);
        failures = 0;
        const byId = new Map(batch.map((b) => [b.outcome.id, b]));
        for (const { id, status } of written) {
          const entry = byId.get(id);
          if (entry) this.report(entry.record, entry.outcome, status, entry.reason);
        }
      } catch (error) {
        events.emit('error', { where: 'task finish', error });
        // After a few failed writes give up: the leases expire and the reaper re-queues the tasks.
        if (++failures >= 5) this.outcomes.splice(0, batch.length);
        else await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** failures));
      }
    }
  }

  private report(record: TaskRecord, outcome: TaskOutcome, status: string, reason: TaskAbortReason | null): void {
    const { events } = this.options;
    const { id, type } = record;
    if (status === 'completed') events.emit('task.completed', { id, type });
    else if (status === 'failed') events.emit('task.failed', { id, type, error: outcome.error });
    else if (status === 'cancelled') events.emit('task.cancelled', { id, type });
    else if (outcome.release) events.emit('task.released', { id, type, reason: reason ?? 'shutdown' });
    else events.emit('task.retrying', { id, type, attempt: record.attempt, error: outcome.error });
  }

  private async heartbeat(): Promise<void> {
    const ids = this.runningIds();
    if (ids.length === 0 || this.stopped) return;
    const { store, clock, workerId, leaseMs, events } = this.options;
    try {
      const now = clock.now();
      const { held, cancelRequested } = await store.heartbeat(workerId, ids, new Date(now.getTime() + leaseMs), now);
      const heldSet = new Set(held);
      // A task still running here but no longer held lost its lease (it expired, and was or will
      // be reaped): abort it, it now belongs to whoever claims it next.
      for (const id of ids) if (!heldSet.has(id) && this.running.has(id)) this.abort(id, 'lease lost');
      for (const id of cancelRequested) this.abort(id, 'cancelled');
    } catch (error) {
      events.emit('error', { where: 'task heartbeat', error });
    }
  }
}
