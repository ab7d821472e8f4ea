import { KV_EVENTS, kvEventData } from '../../kv/events.js';
import type { JsonValue } from '../../kv/types.js';
import { newEvent, SYSTEM_CHANGE } from '../change-context.js';
import type { ChangeContext, KvChange, KvListQuery, KvRecord, KvStore, KvWrite } from '../ports.js';
import { MemoryEventLog } from './event-log.js';

/**
 * The key-value store in process memory, with PostgreSQL's guarantees: every method runs
 * without awaiting in between, so each is atomic (compare-and-swap, increment, import all or
 * nothing); expired entries are invisible before they are swept; keys list in plain string
 * order (keys are ASCII, so this is PostgreSQL's `COLLATE "C"` order).
 *
 * Entries live in a Map (get is O(1)) plus a sorted array of keys: list finds its start by
 * binary search, and a new key is spliced in at its place (a memmove, no re-sort).
 * Values are deep-copied in and out, so callers never share state with the store.
 * Every write appends its events to the shared event log in the same synchronous step.
 *
 * @example
 * const store = new MemoryKvStore();
 * await store.upsert({ key: 'a', value: 1, tags: [], expiresAt: null }, new Date());
 */
export class MemoryKvStore implements KvStore {
  private readonly entries = new Map<string, KvRecord>();
  private readonly sortedKeys: string[] = [];

  constructor(private readonly log: MemoryEventLog = new MemoryEventLog()) {}

  async get(key: string, now: Date): Promise<KvRecord | null> {
    const live = this.live(key, now);
    return live ? copy(live) : null;
  }

  async insert(entry: KvWrite, now: Date, change: ChangeContext = SYSTEM_CHANGE): Promise<KvRecord | null> {
    if (this.live(entry.key, now)) return null;
    return this.setAndLog(fresh(entry, now), now, change);
  }

  async upsert(entry: KvWrite, now: Date, change: ChangeContext = SYSTEM_CHANGE): Promise<KvRecord> {
    return this.setAndLog(this.replacement(entry, now).record, now, change);
  }

  async update(
    key: string,
    change: KvChange,
    expectedVersion: number | undefined,
    now: Date,
    context: ChangeContext = SYSTEM_CHANGE,
  ): Promise<KvRecord | null> {
    const current = this.live(key, now);
    if (!current || (expectedVersion !== undefined && current.version !== expectedVersion)) return null;
    return this.setAndLog(
      {
        ...current,
        value: cloneJson(change.value),
        version: current.version + 1,
        tags: change.tags ? [...change.tags] : current.tags,
        expiresAt: change.expiresAt === undefined ? current.expiresAt : copyDate(change.expiresAt),
        updatedAt: new Date(now),
      },
      now,
      context,
    );
  }

  async delete(
    key: string,
    expectedVersion: number | undefined,
    now: Date,
    change: ChangeContext = SYSTEM_CHANGE,
  ): Promise<KvRecord | null> {
    const current = this.live(key, now);
    if (!current || (expectedVersion !== undefined && current.version !== expectedVersion)) return null;
    this.remove(key);
    this.log.append([newEvent(change, KV_EVENTS.deleted, key, kvEventData(current, false), now)]);
    return copy(current);
  }

  async increment(key: string, by: number, now: Date, change: ChangeContext = SYSTEM_CHANGE): Promise<KvRecord | null> {
    const current = this.live(key, now);
    if (!current) return this.setAndLog(fresh({ key, value: by, tags: [], expiresAt: null }, now), now, change);
    if (typeof current.value !== 'number') return null;
    const sum = current.value + by;
    // Beyond the double range is refused like a non-number, as PostgreSQL does.
    if (!Number.isFinite(sum)) return null;
    return this.setAndLog(
      { ...current, value: sum, version: current.version + 1, updatedAt: new Date(now) },
      now,
      change,
    );
  }

  async list(query: KvListQuery, now: Date): Promise<KvRecord[]> {
    const { prefix, tag, afterKey, limit } = query;
    const start = Math.max(this.lowerBound(prefix ?? ''), afterKey === undefined ? 0 : this.upperBound(afterKey));
    const result: KvRecord[] = [];
    for (let i = start; i < this.sortedKeys.length && result.length < limit; i++) {
      const key = this.sortedKeys[i]!;
      // Keys sharing a prefix are contiguous in sorted order: the first one without it ends the scan.
      if (prefix && !key.startsWith(prefix)) break;
      const record = this.live(key, now);
      if (record && (tag === undefined || record.tags.includes(tag))) result.push(copy(record));
    }
    return result;
  }

  async importEntries(
    entries: readonly KvWrite[],
    now: Date,
    change: ChangeContext = SYSTEM_CHANGE,
  ): Promise<{ created: number; updated: number }> {
    // Nothing can fail part-way (the service validated every line), and there is no await:
    // the whole import is applied as one step, with one event per key.
    let created = 0;
    let updated = 0;
    const events = [];
    for (const entry of lastPerKey(entries)) {
      const { record, replacedLive } = this.replacement(entry, now);
      this.put(record);
      events.push(newEvent(change, KV_EVENTS.set, record.key, kvEventData(record, true), now));
      if (replacedLive) updated++;
      else created++;
    }
    this.log.append(events);
    return { created, updated };
  }

  async deleteExpired(now: Date, limit: number, change: ChangeContext = SYSTEM_CHANGE): Promise<string[]> {
    const deleted: KvRecord[] = [];
    for (const record of this.entries.values()) {
      if (deleted.length >= limit) break;
      if (isExpired(record, now)) deleted.push(record);
    }
    for (const record of deleted) this.remove(record.key);
    this.log.append(
      deleted.map((record) => newEvent(change, KV_EVENTS.expired, record.key, kvEventData(record, false), now)),
    );
    return deleted.map((record) => record.key);
  }

  /** Stores `record` and appends its `kv.set` event in the same step. */
  private setAndLog(record: KvRecord, now: Date, change: ChangeContext): KvRecord {
    this.put(record);
    this.log.append([newEvent(change, KV_EVENTS.set, record.key, kvEventData(record, true), now)]);
    return copy(record);
  }

  /** The upsert of `entry`: a live entry moves to the next version, anything else starts at 1. */
  private replacement(entry: KvWrite, now: Date): { record: KvRecord; replacedLive: boolean } {
    const current = this.live(entry.key, now);
    if (!current) return { record: fresh(entry, now), replacedLive: false };
    const record: KvRecord = {
      ...fresh(entry, now),
      version: current.version + 1,
      createdAt: current.createdAt,
    };
    return { record, replacedLive: true };
  }

  private live(key: string, now: Date): KvRecord | undefined {
    const record = this.entries.get(key);
    return record && !isExpired(record, now) ? record : undefined;
  }

  private put(record: KvRecord): KvRecord {
    if (!this.entries.has(record.key)) this.sortedKeys.splice(this.lowerBound(record.key), 0, record.key);
    this.entries.set(record.key, record);
    return record;
  }

  private remove(key: string): void {
    if (!this.entries.delete(key)) return;
    const index = this.lowerBound(key);
    if (this.sortedKeys[index] === key) this.sortedKeys.splice(index, 1);
  }

  /** Index of the first key >= `key`. */
  private lowerBound(key: string): number {
    let low = 0;
    let high = this.sortedKeys.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.sortedKeys[mid]! < key) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Index of the first key > `key`. */
  private upperBound(key: string): number {
    const index = this.lowerBound(key);
    return this.sortedKeys[index] === key ? index + 1 : index;
  }
}

function copyDate(date: Date | null): Date | null {
  return date === null ? null : new Date(date);
}

function isExpired(record: KvRecord, now: Date): boolean {
  return record.expiresAt !== null && record.expiresAt.getTime() <= now.getTime();
}

function fresh(entry: KvWrite, now: Date): KvRecord {
  return {
    key: entry.key,
    value: cloneJson(entry.value),
    version: 1,
    tags: [...entry.tags],
    expiresAt: entry.expiresAt === null ? null : new Date(entry.expiresAt),
    createdAt: new Date(now),
    updatedAt: new Date(now),
  };
}

/** Records are never mutated in place (every write stores a new object), so a copy detaches the caller. */
function copy(record: KvRecord): KvRecord {
  return {
    ...record,
    value: cloneJson(record.value),
    tags: [...record.tags],
    expiresAt: record.expiresAt === null ? null : new Date(record.expiresAt),
    createdAt: new Date(record.createdAt),
    updatedAt: new Date(record.updatedAt),
  };
}

/** Through JSON text, as PostgreSQL stores it (so `-0` reads back as `0` here too). */
function cloneJson(value: JsonValue): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}

/** Upserting the same key twice in one import equals upserting its last line once. */
function lastPerKey(entries: readonly KvWrite[]): KvWrite[] {
  return [...new Map(entries.map((entry) => [entry.key, entry])).values()];
}
