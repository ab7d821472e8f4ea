import type { EventRecord, NewEvent } from '../ports.js';

/**
 * The memory backend's event log, shared by every memory store of one storage: a store
 * appends in the same synchronous step as the change it describes, so the change and its
 * events are atomic and `seq` follows the order of changes.
 *
 * @example
 * const log = new MemoryEventLog();
 * log.append([{ id: 'evt_1', type: 'kv.set', subject: 'a', data: {}, actor: null, at: new Date() }]);
 */
export class MemoryEventLog {
  private readonly records: EventRecord[] = [];
  private lastSeq = 0;
  private readonly listeners = new Set<(records: readonly EventRecord[]) => void>();

  /** Numbers and stores the events; listeners hear about them after the current step. */
  append(events: readonly NewEvent[]): EventRecord[] {
    const appended = events.map((event) => ({ ...structuredClone(event), seq: ++this.lastSeq }));
    this.records.push(...appended);
    if (appended.length > 0 && this.listeners.size > 0) {
      queueMicrotask(() => {
        for (const listener of this.listeners) listener(appended);
      });
    }
    return appended;
  }

  /** Events with `seq > after`, oldest first. */
  readAfter(after: number, limit: number): EventRecord[] {
    const start = this.indexAfter(after);
    return this.records.slice(start, start + limit).map((record) => structuredClone(record));
  }

  /**
   * Drops (up to `limit` of) the events older than `before`, always keeping the newest one, so
   * `bounds().oldest` still tells how far the purge went; returns how many.
   */
  purgeBefore(before: Date, limit = Number.POSITIVE_INFINITY): number {
    let count = 0;
    const keep = this.records.length - 1;
    while (count < keep && count < limit && (this.records[count]?.at.getTime() ?? 0) < before.getTime()) count++;
    this.records.splice(0, count);
    return count;
  }

  /** The smallest retained seq (null when empty) and the last assigned one. */
  bounds(): { oldest: number | null; last: number } {
    return { oldest: this.records[0]?.seq ?? null, last: this.lastSeq };
  }

  onAppend(listener: (records: readonly EventRecord[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private indexAfter(after: number): number {
    let low = 0;
    let high = this.records.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((this.records[middle]?.seq ?? 0) <= after) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
