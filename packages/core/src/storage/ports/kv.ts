/** The key-value store's port: entries, writes and list queries. */
import type { JsonValue } from '../../kv/types.js';
import type { ChangeContext } from './events.js';

export interface KvRecord {
  key: string;
  value: JsonValue;
  version: number;
  tags: string[];
  expiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface KvWrite {
  key: string;
  value: JsonValue;
  tags: string[];
  expiresAt: Date | null;
}

/** A change to a live entry; `tags`/`expiresAt` undefined keeps the current ones. */
export interface KvChange {
  value: JsonValue;
  tags?: string[];
  expiresAt?: Date | null;
}

export interface KvListQuery {
  prefix?: string;
  tag?: string;
  /** Exclusive lower bound (keyset pagination). */
  afterKey?: string;
  limit: number;
}

/**
 * Every method treats an entry whose `expiresAt <= now` as absent, whether or not it has
 * been swept yet. Every write appends its events (`kv.set`, `kv.deleted`, `kv.expired`, one
 * per key) in the same unit of work as the change, stamped with `change` (default: system).
 */
export interface KvStore {
  get(key: string, now: Date): Promise<KvRecord | null>;
  /** Inserts (replacing an expired entry); null when a live entry already has the key. */
  insert(entry: KvWrite, now: Date, change?: ChangeContext): Promise<KvRecord | null>;
  /** Inserts or replaces; a replaced expired entry starts again at version 1. */
  upsert(entry: KvWrite, now: Date, change?: ChangeContext): Promise<KvRecord>;
  /** Changes a live entry (only at `expectedVersion` when given); null when nothing matched. */
  update(
    key: string,
    change: KvChange,
    expectedVersion: number | undefined,
    now: Date,
    context?: ChangeContext,
  ): Promise<KvRecord | null>;
  /** Deletes a live entry (only at `expectedVersion` when given); the deleted record or null. */
  delete(key: string, expectedVersion: number | undefined, now: Date, change?: ChangeContext): Promise<KvRecord | null>;
  /**
   * Atomically adds `by`; a missing or expired key is created as `by` (from 0, no tags, no
   * expiry). Null when the live value is not a number.
   */
  increment(key: string, by: number, now: Date, change?: ChangeContext): Promise<KvRecord | null>;
  /** Live entries in key order (bytewise; keys are ASCII). */
  list(query: KvListQuery, now: Date): Promise<KvRecord[]>;
  /** Upserts all entries in one transaction: all or nothing. */
  importEntries(
    entries: readonly KvWrite[],
    now: Date,
    change?: ChangeContext,
  ): Promise<{ created: number; updated: number }>;
  /** Deletes up to `limit` expired entries; returns their keys. */
  deleteExpired(now: Date, limit: number, change?: ChangeContext): Promise<string[]>;
}
