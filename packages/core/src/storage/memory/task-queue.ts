import type { TaskPriority } from '../../tasks/types.js';
import type { SlotClass, TaskRecord } from '../ports.js';

/** Which priorities a slot class serves, in order; `aged-batch` is batch that waited past the aging time. */
export type ClaimRank = 'critical' | 'aged-batch' | 'normal' | 'batch' | 'fresh-batch';

/**
 * The claim order of each slot class (THE priority rules; the PostgreSQL store follows the same table):
 * - critical slots: critical only (capacity normal and batch work can never take);
 * - normal slots: critical, then batch that has waited longer than the aging time (so batch
 *   never starves under a steady trickle of normal work), then normal, then the other batch;
 * - batch slots: critical, then batch, then normal (spare capacity is never idle).
 */
export const CLAIM_ORDER: Readonly<Record<SlotClass, readonly ClaimRank[]>> = {
  critical: ['critical'],
  normal: ['critical', 'aged-batch', 'normal', 'fresh-batch'],
  batch: ['critical', 'batch', 'normal'],
};

export function priorityOfRank(rank: ClaimRank): TaskPriority {
  return rank === 'aged-batch' || rank === 'fresh-batch' ? 'batch' : rank;
}

function compare(a: TaskRecord, b: TaskRecord): number {
  if (a.fairSeq !== b.fairSeq) return a.fairSeq - b.fairSeq;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Pending tasks of one priority sorted by (fairSeq, id), the claim order. Binary search finds
 * a task's place; insertion and removal are a splice (a memmove), never a re-sort.
 */
export class PendingQueue {
  readonly items: TaskRecord[] = [];

  add(record: TaskRecord): void {
    this.items.splice(this.position(record), 0, record);
  }

  remove(record: TaskRecord): void {
    const index = this.position(record);
    if (this.items[index]?.id === record.id) this.items.splice(index, 1);
  }

  /** The smallest fairSeq among tasks due at `now`, or undefined. */
  headSeq(now: number): number | undefined {
    for (const item of this.items) if (item.runAt.getTime() <= now) return item.fairSeq;
    return undefined;
  }

  get size(): number {
    return this.items.length;
  }

  private position(record: TaskRecord): number {
    let low = 0;
    let high = this.items.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compare(this.items[mid] as TaskRecord, record) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
