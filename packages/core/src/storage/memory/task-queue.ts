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
/** Removed front entries kept before compacting (see PendingQueue). */
const COMPACT_AFTER = 1024;

export class PendingQueue {
  /**
   * Sorted by (fairSeq, id) from `head` on. Claims take tasks from the front, so the front is
   * removed by moving `head` (the array is compacted once the dead prefix is half of it)
   * instead of shifting every element: a queue of 100,000 stays cheap to drain.
   */
  private readonly list: TaskRecord[] = [];
  private head = 0;

  add(record: TaskRecord): void {
    this.list.splice(this.position(record), 0, record);
  }

  remove(record: TaskRecord): void {
    const index = this.position(record);
    if (this.list[index]?.id !== record.id) return;
    if (index > this.head) {
      this.list.splice(index, 1);
      return;
    }
    this.head++;
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.list.length) {
      this.list.splice(0, this.head);
      this.head = 0;
    }
  }

  /** The queued tasks in order. */
  *[Symbol.iterator](): IterableIterator<TaskRecord> {
    for (let i = this.head; i < this.list.length; i++) yield this.list[i] as TaskRecord;
  }

  /** The smallest fairSeq among tasks due at `now`, or undefined. */
  headSeq(now: number): number | undefined {
    for (const item of this) if (item.runAt.getTime() <= now) return item.fairSeq;
    return undefined;
  }

  get size(): number {
    return this.list.length - this.head;
  }

  private position(record: TaskRecord): number {
    let low = this.head;
    let high = this.list.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compare(this.list[mid] as TaskRecord, record) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
