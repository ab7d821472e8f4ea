/** The document store's port (SPEC §5): documents, history, commits, queries and the change feed. */
import type { FilterNode } from '../../docs/filter.js';
import type { ResolvedOrderTerm, SortValue } from '../../docs/order.js';
import type { JsonObject } from '../../docs/types.js';
import type { ChangeContext } from './events.js';

/** A document as stored (times are Dates). */
export interface DocRecord {
  path: string;
  /** The document holding its collection; `''` for a root collection. */
  parentPath: string;
  collection: string;
  id: string;
  data: JsonObject;
  version: number;
  revision: number;
  createdAt: Date;
  updatedAt: Date;
  createdBy: string;
  updatedBy: string;
}

/** One stored history entry (and change-feed entry); `data` is null for a deletion. */
export interface DocHistoryRecord {
  revision: number;
  path: string;
  parentPath: string;
  collection: string;
  id: string;
  version: number;
  op: 'create' | 'update' | 'delete';
  data: JsonObject | null;
  at: Date;
  actor: string;
}

/** What a write does to the state it finds: store this data, or delete. */
export type DocDecision = { kind: 'put'; data: JsonObject } | { kind: 'delete' };

/**
 * One write of a commit. The store reads the current state (including earlier writes of
 * the same commit), calls `decide`, and applies the answer; anything `decide` throws aborts
 * the whole commit, so preconditions and patches are checked atomically with the write.
 */
export interface DocStoreWrite {
  target: DocPathTarget;
  /** `descendants`: how many documents a recursive delete would remove below the path (0 otherwise). */
  decide(current: DocRecord | null, descendants: number): DocDecision;
  /** Delete the whole subtree too. `check` sees every path first (scope checks) and may throw. */
  recursive?: { check(paths: readonly string[]): void; maxDocuments: number };
}

/** Where a write goes (a parsed document path). */
export interface DocPathTarget {
  path: string;
  parentPath: string;
  collection: string;
  id: string;
}

/** The outcome of one write; `revision` null when it changed nothing (a recursive delete of nothing below a missing root). */
export interface DocWriteOutcome {
  path: string;
  op: 'create' | 'update' | 'delete' | 'none';
  revision: number | null;
  version: number | null;
  /** Documents deleted (the root and its subtree). */
  deleted: number;
  /** The document as written (null for a delete). */
  document: DocRecord | null;
}

export interface DocCommitOptions {
  now: Date;
  change: ChangeContext;
  /** Keep at most this many history entries per path (null: unlimited). */
  maxHistoryVersions: number | null;
}

/** A query the store runs: scope, filter, order and keyset position are already parsed. */
export interface DocStoreQuery {
  scope:
    | { kind: 'collection'; parentPath: string; collection: string }
    /** Collection group: every collection with this id, only below `under/` when given. */
    | { kind: 'group'; collection: string; under: string | null };
  filter: FilterNode;
  order: readonly ResolvedOrderTerm[];
  /** Only documents whose sort key comes strictly after this one. */
  after: readonly SortValue[] | null;
  /** Glob patterns of readable paths (null: everything). */
  visibility: readonly string[] | null;
  limit: number;
}

export interface DocChangesQuery {
  /** An event-log seq: only changes whose `doc.*` event was numbered after it. */
  after: number;
  collection: string | null;
  /** Only paths starting with `under/`. */
  under: string | null;
  visibility: readonly string[] | null;
  limit: number;
}

/** One change-feed entry: a `doc.*` event of the event log, `seq` its number there. */
export interface DocChangeRecord {
  seq: number;
  revision: number;
  path: string;
  collection: string;
  id: string;
  version: number;
  op: 'create' | 'update' | 'delete';
  at: Date;
  actor: string;
}

/**
 * The document store's storage. Every commit is atomic (all writes or none), takes one new
 * revision per document it changes, records history and appends one `doc.*` event per change
 * in the same unit of work. Revisions increase but may commit out of order; the change feed
 * reads the `doc.*` events in seq order instead, which the event log makes visible in order.
 */
export interface DocStore {
  get(path: string): Promise<DocRecord | null>;
  commit(writes: readonly DocStoreWrite[], options: DocCommitOptions): Promise<DocWriteOutcome[]>;
  query(query: DocStoreQuery): Promise<DocRecord[]>;
  /** Collection ids directly below a document (`''`: root), in id order, after `afterId`. */
  collections(parentPath: string, afterId: string | null, limit: number): Promise<string[]>;
  /** A path's history, newest first, below `beforeRevision` when given. */
  history(path: string, beforeRevision: number | null, limit: number): Promise<DocHistoryRecord[]>;
  /** The newest history entry of `path` at `version`. */
  historyVersion(path: string, version: number): Promise<DocHistoryRecord | null>;
  /**
   * The `doc.*` events with a seq above `query.after` that match it, in seq order, and the
   * highest sequenced seq of the whole log read in the same snapshot (every event up to it
   * is already visible).
   */
  changes(query: DocChangesQuery): Promise<{ records: DocChangeRecord[]; lastSeq: number }>;
  /**
   * Deletes up to `limit` history entries older than `before`, keeping the newest entry of
   * every path unless it is a deletion; returns how many.
   */
  pruneHistory(before: Date, limit: number): Promise<number>;
}
