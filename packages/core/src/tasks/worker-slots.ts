import type { ClaimedTask, SlotClass } from '../storage/ports.js';
import { ClaimAhead } from './claim-ahead.js';

export const SLOT_CLASSES: readonly SlotClass[] = ['critical', 'normal', 'batch'];
/** The classes that may hold tasks claimed ahead (critical work is always claimed on demand). */
export const AHEAD_CLASSES = ['normal', 'batch'] as const;

/**
 * The slot bookkeeping of one worker: slots in use per priority class, and the local queues
 * of tasks claimed ahead (normal and batch only, in start order; see {@link ClaimAhead}).
 * Only counts and queues: claiming and running are the worker's.
 *
 * @example
 * const slots = new WorkerSlots({ critical: 2, normal: 8, batch: 4 });
 * const limit = slots.refillLimit('normal'); // claim this many when above 0
 * const critical = slots.enqueueClaimed('normal', claimed);
 * for (let r = slots.nextQueued('normal'); r; r = slots.nextQueued('normal')) run(r);
 */
export class WorkerSlots {
  private readonly used: Record<SlotClass, number> = { critical: 0, normal: 0, batch: 0 };
  /** Claimed ahead, not started yet (normal and batch only), in start order. */
  private readonly queued: Record<SlotClass, ClaimedTask[]> = { critical: [], normal: [], batch: [] };
  private readonly ahead: Record<SlotClass, ClaimAhead>;

  constructor(private readonly slots: Record<SlotClass, number>) {
    this.ahead = {
      critical: new ClaimAhead(0),
      normal: new ClaimAhead(slots.normal),
      batch: new ClaimAhead(slots.batch),
    };
  }

  /** Slots of every class. */
  get capacity(): number {
    return SLOT_CLASSES.reduce((sum, c) => sum + this.slots[c], 0);
  }

  free(slotClass: SlotClass): number {
    return this.slots[slotClass] - this.used[slotClass];
  }

  /** No slot of any class is free. */
  allBusy(): boolean {
    return SLOT_CLASSES.every((c) => this.free(c) <= 0);
  }

  /** A task starts on a slot of the class. */
  occupy(slotClass: SlotClass): void {
    this.used[slotClass]++;
  }

  /** A slot occupied for a task that did not start here after all (a declined handoff) is free again. */
  release(slotClass: SlotClass): void {
    this.used[slotClass]--;
  }

  /** A task of the class finished: its slot is free again (and counts towards the claim-ahead size). */
  vacate(slotClass: SlotClass): void {
    this.used[slotClass]--;
    this.ahead[slotClass].finished();
  }

  hasQueued(slotClass: SlotClass): boolean {
    return this.queued[slotClass].length > 0;
  }

  /**
   * How many tasks a refill of the class claims: its free slots plus its claim-ahead size,
   * less what its local queue holds. 0 (no claim) when it has no free slot and its local queue
   * holds at least half the claim-ahead size.
   */
  refillLimit(slotClass: SlotClass): number {
    const free = this.free(slotClass);
    const ahead = this.ahead[slotClass].size();
    const waiting = this.queued[slotClass].length;
    if (free <= 0 && waiting * 2 >= ahead) return 0;
    return Math.max(0, free + ahead - waiting);
  }

  /** Adds claimed tasks to the class's local queue, critical ones to the front; answers how many were critical. */
  enqueueClaimed(slotClass: SlotClass, claimed: readonly ClaimedTask[]): number {
    const critical = claimed.filter((r) => r.priority === 'critical');
    const rest = claimed.filter((r) => r.priority !== 'critical');
    this.queued[slotClass] = [...critical, ...this.queued[slotClass], ...rest];
    return critical.length;
  }

  /** The next task of the class's local queue when a slot of the class is free (taken off the queue). */
  nextQueued(slotClass: SlotClass): ClaimedTask | undefined {
    if (this.free(slotClass) <= 0) return undefined;
    return this.queued[slotClass].shift();
  }

  /** Takes a task off the local queues (it will not start here); answers what was removed. */
  unqueue(id: string): ClaimedTask[] {
    const removed: ClaimedTask[] = [];
    for (const slotClass of AHEAD_CLASSES) {
      const queue = this.queued[slotClass];
      const index = queue.findIndex((r) => r.id === id);
      if (index < 0) continue;
      removed.push(...queue.splice(index, 1));
    }
    return removed;
  }

  /** Empties the local queues; answers what they held. */
  unqueueAll(): ClaimedTask[] {
    return AHEAD_CLASSES.flatMap((slotClass) => this.queued[slotClass].splice(0));
  }

  /** Ids of the tasks claimed ahead (they hold a lease like running ones). */
  queuedIds(): string[] {
    return AHEAD_CLASSES.flatMap((c) => this.queued[c].map((r) => r.id));
  }
}
