import type { Principal } from '../auth/types.js';

/** Any JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A key-value entry as clients see it. Times are ISO 8601 UTC strings. */
export interface KvEntry {
  key: string;
  value: JsonValue;
  /** Per-key version: 1 on creation, +1 on every write. Used as the ETag for compare-and-swap. */
  version: number;
  tags: string[];
  expiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Input of create and upsert. */
export interface KvSetInput {
  key: string;
  value: JsonValue;
  ttlSeconds?: number;
  tags?: string[];
}

/**
 * Input of update. `ttlSeconds` omitted keeps the current expiry, `null` removes it;
 * `tags` omitted keeps the current tags.
 */
export interface KvUpdateInput {
  value: JsonValue;
  ttlSeconds?: number | null;
  tags?: string[];
}

export interface KvListOptions {
  prefix?: string;
  tag?: string;
  cursor?: string;
  limit?: number;
  /** Drops entries the caller may not see (scope narrowing); the cursor still advances. */
  visible?: (key: string) => boolean;
}

/** One line of an NDJSON import: the export format (extra fields such as `version` are ignored). */
export interface KvImportLine {
  key: string;
  value: JsonValue;
  tags?: string[];
  expiresAt?: string | null;
}

/**
 * Options of every key-value write. `actor`: who makes the change, recorded as the `actor` of
 * its events (the token id; `system` when omitted). The service does not check scopes: the
 * caller (the HTTP layer) authorises first.
 *
 * @example
 * await core.kv.upsert({ key: 'a', value: 1 }, { actor: principal });
 */
export interface KvWriteOptions {
  actor?: Principal;
}

/** Options of update and delete: compare-and-swap on `ifVersion`, plus the actor. */
export interface KvConditionalWriteOptions extends KvWriteOptions {
  ifVersion?: number;
}

export interface KvImportResult {
  created: number;
  updated: number;
  /** Lines whose `expiresAt` had already passed. */
  skipped: number;
}

/**
 * The key-value service (SPEC §6). Reached as `core.kv`.
 *
 * @example
 * await core.kv.create({ key: 'pipelines/main/last-build', value: { id: 42 }, ttlSeconds: 3600 });
 * const entry = await core.kv.get('pipelines/main/last-build');
 * await core.kv.update(entry.key, { value: { id: 43 } }, { ifVersion: entry.version });
 */
export interface KvService {
  /** Creates a new entry; `ALREADY_EXISTS` if a live entry has the key. */
  create(input: KvSetInput, options?: KvWriteOptions): Promise<KvEntry>;
  /** Creates or replaces (value, tags and expiry all taken from the input). */
  upsert(input: KvSetInput, options?: KvWriteOptions): Promise<KvEntry>;
  /** `NOT_FOUND` when missing or expired. */
  get(key: string): Promise<KvEntry>;
  /** `NOT_FOUND` when missing; `PRECONDITION_FAILED` when `ifVersion` is not the current version. */
  update(key: string, input: KvUpdateInput, options?: KvConditionalWriteOptions): Promise<KvEntry>;
  /** Returns the deleted entry. Same errors as update. */
  delete(key: string, options?: KvConditionalWriteOptions): Promise<KvEntry>;
  /** Atomic add; creates the key at 0 first when missing; `NOT_A_NUMBER` if the value is not a number. */
  increment(key: string, by?: number, options?: KvWriteOptions): Promise<KvEntry>;
  /** Keyset-paginated, ordered by key. */
  list(options?: KvListOptions): Promise<import('../pagination.js').Page<KvEntry>>;
  /** Every matching live entry, in key order, fetched page by page. */
  export(options?: Omit<KvListOptions, 'cursor' | 'limit'>): AsyncIterable<KvEntry>;
  /** Validates every line first, then writes all of them in one transaction (upsert). */
  import(lines: readonly unknown[], options?: KvWriteOptions): Promise<KvImportResult>;
  /** Removes expired entries now (the background sweeper calls this); returns how many. */
  sweepExpired(): Promise<number>;
}
