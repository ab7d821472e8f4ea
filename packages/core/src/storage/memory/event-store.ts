import type { EventFilter, EventRecord, EventStore, NewEvent, NumberedAppend, SequenceResult } from '../ports.js';
import type { MemoryEventLog } from './event-log.js';

/** Reads this many records per scan step when a filter skips most of them. */
const SCAN_BATCH = 1000;

/**
 * The event log port over the memory backend's shared {@link MemoryEventLog}. Events are
 * numbered when appended (in the same synchronous step as their change), so there is nothing
 * left to sequence.
 *
 * @example
 * const events = new MemoryEventStore(new MemoryEventLog());
 * await events.readAfter(0, 100);
 */
export class MemoryEventStore implements EventStore {
  constructor(readonly log: MemoryEventLog) {}

  async append(events: readonly NewEvent[]): Promise<void> {
    this.log.append(events);
  }

  async sequencePending(): Promise<SequenceResult> {
    return { lastSeq: null, busy: false, announced: false };
  }

  async readAfter(after: number, limit: number, filter?: EventFilter): Promise<EventRecord[]> {
    if (!filter?.typePrefixes && !filter?.subjects) return this.log.readAfter(after, limit);
    const out: EventRecord[] = [];
    let cursor = after;
    for (;;) {
      const batch = this.log.readAfter(cursor, SCAN_BATCH);
      for (const record of batch) {
        if (matchesFilter(record, filter)) out.push(record);
        if (out.length >= limit) return out;
      }
      const last = batch.at(-1);
      if (!last || batch.length < SCAN_BATCH) return out;
      cursor = last.seq;
    }
  }

  async appendNumbered(events: readonly NewEvent[]): Promise<NumberedAppend> {
    const records = this.log.append(events);
    // Numbered as appended: the log tells its listeners itself, nothing is left to announce.
    return { seqs: new Map(records.map((record) => [record.id, record.seq])), lastSeq: null, announced: false };
  }

  async bounds(): Promise<{ oldest: number | null; last: number }> {
    return this.log.bounds();
  }

  async purgeBefore(before: Date, limit: number): Promise<number> {
    return this.log.purgeBefore(before, limit);
  }
}

/** The same prefilter as the PostgreSQL store's WHERE clause. */
export function matchesFilter(record: Pick<EventRecord, 'type' | 'subject'>, filter: EventFilter): boolean {
  if (filter.typePrefixes && !filter.typePrefixes.some((prefix) => record.type.startsWith(prefix))) return false;
  if (filter.subjects && !filter.subjects.includes(record.subject)) return false;
  return true;
}
