import type { ChangeContext, ClaimedTask, SlotClass, TaskHandoff, TaskRecord } from '../storage/ports.js';
import { AttemptAbort } from './attempt-abort.js';
import { releaseOutcome } from './claim-ahead.js';
import { OutcomeWriter } from './outcome-writer.js';
import { choosePreempted } from './preemption.js';
import { QueueRefill } from './queue-refill.js';
import { startAttempt } from './start-attempt.js';
import type { TaskAbortReason } from './task-error.js';
import type { TaskPriority } from './types.js';
import { claimNamedTask, claimRequest, claimTasks, renewLeases } from './worker-leases.js';
import { parseSubmittedPayload, TASK_CHANNELS, type WorkerOptions } from './worker-options.js';
import { AHEAD_CLASSES, SLOT_CLASSES, WorkerSlots } from './worker-slots.js';

interface RunningTask {
  record: ClaimedTask;
  slotClass: SlotClass;
  abort: AttemptAbort;
  /** Start order in this process: preemption picks the most recently started batch task. */
  order: number;
  done: Promise<void>;
}

/**
 * The worker of one process: slots per priority class, claims (batched: as many as free
 * slots, plus a local queue of tasks claimed ahead for short normal and batch work, see
 * {@link ClaimAhead}), heartbeats, preemption and buffered completions.
 *
 * Wake-ups: a submit notification (LISTEN/NOTIFY across processes), a freed slot, a written
 * outcome, or the poll timer (the fallback when a notification is lost). A notification that
 * names its one task, heard while a slot of its class is idle, claims that task by id instead
 * of running a claim round (see {@link onSubmitted}).
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
  private readonly slots: WorkerSlots;
  private readonly refill: QueueRefill;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unsubscribers: (() => Promise<void>)[] = [];
  private readonly writer: OutcomeWriter;
  private pumping: Promise<void> | undefined;
  private again = false;
  private criticalPending = true;
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
    this.slots = new WorkerSlots(options.slots);
    this.refill = new QueueRefill({
      slots: this.slots,
      claim: (slotClass, limit) => this.claim(slotClass, limit),
      startQueued: (slotClass) => this.startQueued(slotClass),
    });
  }

  get capacity(): number {
    return this.slots.capacity;
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
   * Offers an idle slot for the task about to be submitted here (see TaskHandoff): when a slot
   * of the task's priority class is free, nothing claimed ahead waits for one and no claim
   * round is under way, that slot is reserved and the offer returned; {@link settleHandoff}
   * must follow. Null when there is no such slot.
   */
  offerHandoff(priority: TaskPriority): TaskHandoff | null {
    const slotClass: SlotClass = priority;
    if (!this.idleSlot(slotClass)) return null;
    this.slots.occupy(slotClass);
    return { claim: claimRequest(this.options, slotClass, 1, this.options.clock.now()), change: this.change };
  }

  /**
   * Runs the task the store handed over for `offer` (the one of `inserted` it inserted claimed
   * by this worker) and answers it, or frees the reserved slot and answers null.
   */
  settleHandoff(offer: TaskHandoff, inserted: readonly TaskRecord[]): TaskRecord | null {
    const { workerId, slotClass } = offer.claim;
    const handedOver = inserted.find((task) => task.status === 'running' && task.leaseOwner === workerId);
    if (!handedOver) {
      this.slots.release(slotClass);
      return null;
    }
    this.runOnSlot(handedOver, slotClass);
    return handedOver;
  }

  /**
   * Aborts a task running here (cancel requested, possibly from another process). A task
   * claimed ahead is given back unstarted (nothing is written for it when its lease was lost).
   */
  abort(id: string, reason: TaskAbortReason): void {
    const task = this.running.get(id);
    task?.abort.abort(reason);
    for (const record of this.slots.unqueue(id)) {
      if (reason !== 'lease lost') this.writer.enqueue({ outcome: releaseOutcome(record), record, reason });
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
    for (const record of this.slots.unqueueAll()) {
      this.writer.enqueue({ outcome: releaseOutcome(record), record, reason: 'shutdown' });
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
      await notifier.subscribe(TASK_CHANNELS.submitted, (payload) => this.onSubmitted(payload)),
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

  /**
   * A submit notification from another process. One that names its task, arriving while a slot
   * of the task's class is idle here (nothing claimed ahead waits for it, no claim round under
   * way), claims that task by id: a primary-key probe instead of a claim round's walk of the
   * claim order. The worker was idle, so its last round found nothing else due for that class;
   * if the named claim gets nothing (another node was faster), a claim round follows at once.
   */
  private onSubmitted(payload: string): void {
    const { priority, origin, taskId } = parseSubmittedPayload(payload);
    if (origin === this.options.workerId) return;
    const slotClass = SLOT_CLASSES.find((c) => c === priority);
    if (taskId === undefined || slotClass === undefined || !this.idleSlot(slotClass)) {
      this.wake(priority === 'critical');
      return;
    }
    this.slots.occupy(slotClass);
    this.pumping = this.pump(() => this.claimNamed(taskId, slotClass));
  }

  /** A slot of `slotClass` is free and nothing here is about to take it. */
  private idleSlot(slotClass: SlotClass): boolean {
    const idle = this.started !== undefined && !this.stopped && !this.pumping && !this.slots.hasQueued(slotClass);
    return idle && this.slots.free(slotClass) > 0;
  }

  /** Claims `taskId` for the slot of `slotClass` occupied for it, or frees the slot and asks for a claim round. */
  private async claimNamed(taskId: string, slotClass: SlotClass): Promise<void> {
    let claimed: ClaimedTask[] = [];
    try {
      claimed = await claimNamedTask(this.options, slotClass, taskId, this.change);
    } finally {
      if (claimed.length === 0) {
        this.slots.release(slotClass);
        this.again = true;
        if (slotClass === 'critical') this.criticalPending = true;
      }
    }
    for (const record of claimed) this.runOnSlot(record, slotClass);
  }

  /**
   * Claim rounds (after `first`, a named claim) until no wake-up arrived during the last one.
   * `pumping` is cleared in the same synchronous step as the final `again` check, so a wake-up
   * is never lost between the two.
   */
  private async pump(first?: () => Promise<void>): Promise<void> {
    try {
      await first?.();
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
    const criticalFree = this.slots.free('critical');
    if (critical && criticalFree > 0 && !this.stopped) {
      const claimed = await this.claim('critical', criticalFree);
      for (const record of claimed) this.run(record, 'critical');
      critical = claimed.length >= criticalFree;
    }
    const free = { normal: this.slots.free('normal'), batch: this.slots.free('batch') };
    for (const slotClass of AHEAD_CLASSES) {
      if (!critical || this.stopped) break;
      if (free[slotClass] > 0 && this.slots.hasQueued(slotClass)) {
        const claimed = await this.claim('critical', free[slotClass]);
        for (const record of claimed) this.run(record, slotClass);
        critical = claimed.length >= free[slotClass];
      }
    }
    if (this.stopped) return;
    if (!critical) for (const slotClass of AHEAD_CLASSES) this.startQueued(slotClass);
    const claims = await this.refill.refillBoth();
    AHEAD_CLASSES.forEach((slotClass, index) => {
      const claim = claims[index];
      if (claim && claim.critical < free[slotClass]) critical = false;
    });
    if (!critical || this.stopped) return;
    this.criticalPending = true;
    if (hinted && this.slots.allBusy()) await this.preemptIfNeeded();
  }

  /** Starts tasks claimed ahead on the class's free slots. */
  private startQueued(slotClass: SlotClass): void {
    while (!this.stopped) {
      const record = this.slots.nextQueued(slotClass);
      if (!record) return;
      this.run(record, slotClass);
    }
  }

  /** One claim statement (see {@link claimTasks}). */
  private claim(ranks: SlotClass, limit: number): Promise<ClaimedTask[]> {
    return claimTasks(this.options, ranks, limit, this.change);
  }

  /** Preempts batch tasks running here for the critical tasks that are due (see {@link choosePreempted}). */
  private async preemptIfNeeded(): Promise<void> {
    const { store, clock, registry } = this.options;
    const toPreempt = await choosePreempted([...this.running.values()], (limit) =>
      store.countDueCritical(clock.now(), registry.typeNames(), limit),
    );
    for (const task of toPreempt) this.abort(task.record.id, 'preempted');
  }

  private run(record: ClaimedTask, slotClass: SlotClass): void {
    this.slots.occupy(slotClass);
    this.runOnSlot(record, slotClass);
  }

  /** Runs a claimed task on a slot of `slotClass` already occupied for it. */
  private runOnSlot(record: ClaimedTask, slotClass: SlotClass): void {
    const abort = new AttemptAbort();
    if (this.stopped) abort.abort('shutdown');
    // This process still runs an older attempt of the task: its lease expired and the reaper
    // re-queued it before our heartbeat noticed. That attempt is void (its writes carry the old
    // attempt number and are refused); make sure its handler hears so.
    this.abort(record.id, 'lease lost');
    const task: RunningTask = { record, slotClass, abort, order: this.startCounter++, done: Promise.resolve() };
    this.running.set(record.id, task);
    this.options.events.emit('task.started', { id: record.id, type: record.type, attempt: record.attempt });
    task.done = startAttempt(record, abort, this.options).then((outcome) => {
      if (this.running.get(record.id) === task) this.running.delete(record.id);
      this.slots.vacate(slotClass);
      const reason = abort.reason;
      if (outcome) this.writer.enqueue({ outcome, record, reason });
      // The freed slot takes the next task claimed ahead at once, unless critical work may wait.
      if (!this.criticalPending) this.startQueued(slotClass);
      this.wake();
    });
  }

  private async heartbeat(): Promise<void> {
    const ids = [...this.runningIds(), ...this.slots.queuedIds()];
    if (ids.length === 0 || this.stopped) return;
    try {
      const { lost, cancelRequested } = await renewLeases(this.options, ids);
      // A task still running here but no longer held lost its lease (it expired, and was or will
      // be reaped): abort it, it now belongs to whoever claims it next.
      for (const id of lost) this.abort(id, 'lease lost');
      for (const id of cancelRequested) this.abort(id, 'cancelled');
    } catch (error) {
      this.options.events.emit('error', { where: 'task heartbeat', error });
    }
  }
}
