import type { ClaimedTask, SlotClass } from '../storage/ports.js';
import { AHEAD_CLASSES, type WorkerSlots } from './worker-slots.js';

export interface RefillResult {
  /** Critical tasks among the claimed. */
  critical: number;
  /** As many as asked: more may be waiting. */
  full: boolean;
}

export interface QueueRefillDeps {
  slots: WorkerSlots;
  /** One claim statement in the slot class's own order. */
  claim: (slotClass: SlotClass, limit: number) => Promise<ClaimedTask[]>;
  /** Starts tasks claimed ahead on the class's free slots (none once the worker stops). */
  startQueued: (slotClass: SlotClass) => void;
}

/**
 * The refill of a worker's normal and batch slots and local queues (tasks claimed ahead, see
 * {@link WorkerSlots}), one per claim round.
 *
 * @example
 * const refill = new QueueRefill({ slots, claim, startQueued });
 * const [normal, batch] = await refill.refillBoth(); // null: that class did not claim
 */
export class QueueRefill {
  /** The last normal claim came back full: more work is queued (see {@link refillBoth}). */
  private backlog = false;

  constructor(private readonly deps: QueueRefillDeps) {}

  /**
   * Refills normal and batch. With a backlog (the last normal claim came back full) both claim
   * at once, on two connections: a round costs one round trip, not two. Otherwise normal claims
   * first and batch only if that claim was full: the normal order covers every priority, so a
   * short normal claim means a batch claim would find nothing (an idle worker's pickup then
   * runs one claim, not two competing for the same rows).
   */
  async refillBoth(): Promise<(RefillResult | null)[]> {
    if (this.backlog) return Promise.all(AHEAD_CLASSES.map((slotClass) => this.refill(slotClass)));
    const normal = await this.refill('normal');
    const batch = normal === null || normal.full ? await this.refill('batch') : null;
    return [normal, batch];
  }

  /**
   * Claims for a slot class's free slots plus its claim-ahead size, when it has free slots or
   * its local queue ran below half that size; starts what the free slots can take. Answers how
   * many critical tasks the claim returned and whether it was full (null: no claim). Critical
   * tasks go to the front.
   */
  private async refill(slotClass: SlotClass): Promise<RefillResult | null> {
    const { slots, claim, startQueued } = this.deps;
    const limit = slots.refillLimit(slotClass);
    if (limit <= 0) return null;
    const claimed = await claim(slotClass, limit);
    const full = claimed.length >= limit;
    if (slotClass === 'normal') this.backlog = full;
    const critical = slots.enqueueClaimed(slotClass, claimed);
    startQueued(slotClass);
    return { critical, full };
  }
}
