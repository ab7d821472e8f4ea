import type { Clock } from '../clock.js';
import type { Ids } from '../ids.js';
import type { ChangeContext, Notifier, SlotClass, TaskOutcome, TaskRecord, TaskStore } from '../storage/ports.js';
import { AttemptReporter } from './attempt-reporter.js';
import { ClaimAhead, releaseOutcome } from './claim-ahead.js';
import type { TaskEventEmitter } from './events.js';
import { OutcomeWriter } from './outcome-writer.js';
import type { TaskRegistry } from './registry.js';
import { runAttempt } from './run-attempt.js';
import { TaskAbortError, type TaskAbortReason } from './task-error.js';

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

interface RunningTask {
  record: TaskRecord;
  slotClass: SlotClass;
  controller: AbortController;
  /** Start order in this process: preemption picks the most recently started batch task. */
  order: number;
  done: Promise<void>;
}

const SLOT_CLASSES: readonly SlotClass[] = ['critical', 'normal', 'batch'];
/** The classes that may hold tasks claimed ahead (critical work is always claimed on demand). */
const AHEAD_CLASSES = ['normal', 'batch'] as const;

interface RefillResult {
  /** Critical tasks among the claimed. */
  critical: number;
  /** As many as asked: more may be waiting. */
  full: boolean;
}

/**
 * The worker of one process: slots per priority class, claims (batched: as many as free
 * slots, plus a local queue of tasks claimed ahead for short normal and batch work, see
 * {@link ClaimAhead}), heartbeats, preemption and buffered completions.
 *
 * Wake-ups: a submit notification (LISTEN/NOTIFY across processes), a freed slot, a written
 * outcome, or the poll timer (the fallback when a notification is lost).
 *
 * Preemption: when a critical task is due and no slot of this process is free, the most
 * recently started batch task here is aborted (`preempted`) and goes back in line without
 * spending an attempt; its freed slot claims, critical first. Several processes may preempt
 * for the same critical task: that wastes some batch work (it re-runs later), never
 * correctness, since the claim itself is exclusive.
 *
 * Critical work first: a critical wake-up (a critical submit, the poll timer) stays pending
 * until a claim with a free slot found no more critical work; meanwhile freed slots claim
 * critical tasks from the store before they start anything from their local queue. Tasks
 * claimed ahead hold a lease like running ones (heartbeats renew it); a cancel request, a lost
 * lease or shutdown gives them back unstarted.
 */
export class TaskWorker {
  private readonly running = new Map<string, RunningTask>();
  private readonly used: Record<SlotClass, number> = { critical: 0, normal: 0, batch: 0 };
  /** Claimed ahead, not started yet (normal and batch only), in start order. */
  private readonly queued: Record<SlotClass, TaskRecord[]> = { critical: [], normal: [], batch: [] };
  private readonly ahead: Record<SlotClass, ClaimAhead>;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unsubscribers: (() => Promise<void>)[] = [];
  private readonly writer: OutcomeWriter;
  private pumping: Promise<void> | undefined;
  private again = false;
  private criticalPending = true;
  /** The last normal claim came back full: more work is queued (see {@link refillBoth}). */
  private backlog = false;
  private stopped = false;
  private started: Promise<void> | undefined;
  private startCounter = 0;

  /** The worker's changes are the system's (the submitter acted when submitting). */
  private readonly change: ChangeContext;

  constructor(private readonly options: WorkerOptions) {
    this.change = { actor: 'system', ids: options.ids };
    const { store, clock, events, workerId } = options;
    // A written outcome may unblock a concurrency key (of critical work too) or free a retry.
    const onWritten = (unblocksKey: boolean) => this.wake(unblocksKey);
    this.writer = new OutcomeWriter({ store, clock, events, workerId, change: this.change, onWritten });
    const { slots } = options;
    this.ahead = {
      critical: new ClaimAhead(0),
      normal: new ClaimAhead(slots.normal),
      batch: new ClaimAhead(slots.batch),
    };
  }

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
    if (critical) this.criticalPending = true;
    if (this.stopped) return;
    this.again = true;
    if (!this.pumping) this.pumping = this.pump();
  }

  /**
   * Aborts a task running here (cancel requested, possibly from another process). A task
   * claimed ahead is given back unstarted (nothing is written for it when its lease was lost).
   */
  abort(id: string, reason: TaskAbortReason): void {
    const task = this.running.get(id);
    if (task && !task.controller.signal.aborted) task.controller.abort(new TaskAbortError(reason));
    for (const slotClass of AHEAD_CLASSES) {
      const queue = this.queued[slotClass];
      const index = queue.findIndex((r) => r.id === id);
      if (index < 0) continue;
      const [record] = queue.splice(index, 1);
      if (record && reason !== 'lease lost') this.writer.enqueue({ outcome: releaseOutcome(record), record, reason });
    }
  }

  /** Stops claiming, aborts running handlers (`shutdown`: they go back in line), writes their outcomes. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    await this.started?.catch(() => {});
    await Promise.allSettled(this.unsubscribers.map((unsubscribe) => unsubscribe()));
    await this.pumping;
    for (const slotClass of AHEAD_CLASSES) {
      for (const record of this.queued[slotClass].splice(0)) {
        this.writer.enqueue({ outcome: releaseOutcome(record), record, reason: 'shutdown' });
      }
    }
    for (const id of this.running.keys()) this.abort(id, 'shutdown');
    const all = Promise.allSettled([...this.running.values()].map((task) => task.done));
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise((resolve) => (grace = setTimeout(resolve, this.options.shutdownGraceMs)))]);
    clearTimeout(grace);
    await this.writer.drain();
  }

  private async subscribeAndRun(): Promise<void> {
    const { notifier, pollIntervalMs, heartbeatMs } = this.options;
    this.unsubscribers.push(
      await notifier.subscribe(TASK_CHANNELS.submitted, (payload) => {
        const [priority, origin] = payload.split(' ');
        if (origin !== this.options.workerId) this.wake(priority === 'critical');
      }),
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
    const hinted = this.criticalPending;
    this.criticalPending = false;
    // Critical work may be due and not yet claimed (a critical wake-up, the poll timer):
    // critical slots claim it first, and until a claim with a free slot comes back short of
    // critical work, the other classes claim it before they start their local queues.
    let critical = hinted;
    const criticalFree = this.free('critical');
    if (critical && criticalFree > 0 && !this.stopped) {
      const claimed = await this.claim('critical', criticalFree);
      for (const record of claimed) this.run(record, 'critical');
      critical = claimed.length >= criticalFree;
    }
    const free = { normal: this.free('normal'), batch: this.free('batch') };
    for (const slotClass of AHEAD_CLASSES) {
      if (!critical || this.stopped) break;
      if (free[slotClass] > 0 && this.queued[slotClass].length > 0) {
        const claimed = await this.claim('critical', free[slotClass]);
        for (const record of claimed) this.run(record, slotClass);
        critical = claimed.length >= free[slotClass];
      }
    }
    if (this.stopped) return;
    if (!critical) for (const slotClass of AHEAD_CLASSES) this.startQueued(slotClass);
    const claims = await this.refillBoth();
    AHEAD_CLASSES.forEach((slotClass, index) => {
      const claim = claims[index];
      if (claim && claim.critical < free[slotClass]) critical = false;
    });
    if (!critical || this.stopped) return;
    this.criticalPending = true;
    if (hinted && SLOT_CLASSES.every((c) => this.free(c) <= 0)) await this.preemptIfNeeded();
  }

  /**
   * Claims for a slot class's free slots plus its claim-ahead size, when it has free slots or
   * its local queue ran below half that size; starts what the free slots can take. Answers how
   * many critical tasks the claim returned and whether it was full (null: no claim). Critical
   * tasks go to the front.
   */
  /**
   * Refills normal and batch. With a backlog (the last normal claim came back full) both claim
   * at once, on two connections: a round costs one round trip, not two. Otherwise normal claims
   * first and batch only if that claim was full: the normal order covers every priority, so a
   * short normal claim means a batch claim would find nothing (an idle worker's pickup then
   * runs one claim, not two competing for the same rows).
   */
  private async refillBoth(): Promise<(RefillResult | null)[]> {
    if (this.backlog) return Promise.all(AHEAD_CLASSES.map((slotClass) => this.refill(slotClass)));
    const normal = await this.refill('normal');
    const batch = normal === null || normal.full ? await this.refill('batch') : null;
    return [normal, batch];
  }

  private async refill(slotClass: SlotClass): Promise<RefillResult | null> {
    const free = this.free(slotClass);
    const ahead = this.ahead[slotClass].size();
    const waiting = this.queued[slotClass].length;
    if (free <= 0 && waiting * 2 >= ahead) return null;
    const limit = free + ahead - waiting;
    if (limit <= 0) return null;
    const claimed = await this.claim(slotClass, limit);
    const full = claimed.length >= limit;
    if (slotClass === 'normal') this.backlog = full;
    const critical = claimed.filter((r) => r.priority === 'critical');
    const rest = claimed.filter((r) => r.priority !== 'critical');
    this.queued[slotClass] = [...critical, ...this.queued[slotClass], ...rest];
    if (!this.stopped) this.startQueued(slotClass);
    return { critical: critical.length, full };
  }

  /** Starts tasks claimed ahead on the class's free slots. */
  private startQueued(slotClass: SlotClass): void {
    const queue = this.queued[slotClass];
    while (queue.length > 0 && this.free(slotClass) > 0 && !this.stopped) {
      this.run(queue.shift() as TaskRecord, slotClass);
    }
  }

  /** One claim statement: `ranks` names the claim order (a class's own, or critical work only). */
  private claim(ranks: SlotClass, limit: number): Promise<TaskRecord[]> {
    const { store, clock, registry, workerId, leaseMs, batchAgingMs } = this.options;
    const now = clock.now();
    return store.claim(
      {
        workerId,
        slotClass: ranks,
        limit,
        types: registry.typeNames(),
        leaseExpiresAt: new Date(now.getTime() + leaseMs),
        agedBefore: new Date(now.getTime() - batchAgingMs),
      },
      now,
      this.change,
    );
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
    const { store, clock, ids, events, workerId, logCap, progressIntervalMs, registry, random } = this.options;
    const controller = new AbortController();
    if (this.stopped) controller.abort(new TaskAbortError('shutdown'));
    this.used[slotClass]++;
    const reporter = new AttemptReporter({
      store,
      clock,
      ids,
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
      this.ahead[slotClass].finished();
      const reason = controller.signal.reason instanceof TaskAbortError ? controller.signal.reason.reason : null;
      if (outcome) this.writer.enqueue({ outcome, record, reason });
      // The freed slot takes the next task claimed ahead at once, unless critical work may wait.
      if (!this.criticalPending) this.startQueued(slotClass);
      this.wake();
    });
  }

  private async heartbeat(): Promise<void> {
    const ids = [...this.runningIds(), ...AHEAD_CLASSES.flatMap((c) => this.queued[c].map((r) => r.id))];
    if (ids.length === 0 || this.stopped) return;
    const { store, clock, workerId, leaseMs, events } = this.options;
    try {
      const now = clock.now();
      const { held, cancelRequested } = await store.heartbeat(workerId, ids, new Date(now.getTime() + leaseMs), now);
      const heldSet = new Set(held);
      // A task still running here but no longer held lost its lease (it expired, and was or will
      // be reaped): abort it, it now belongs to whoever claims it next.
      for (const id of ids) if (!heldSet.has(id)) this.abort(id, 'lease lost');
      for (const id of cancelRequested) this.abort(id, 'cancelled');
    } catch (error) {
      events.emit('error', { where: 'task heartbeat', error });
    }
  }
}
