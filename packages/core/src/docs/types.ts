import type { Principal } from '../auth/types.js';
import type { JsonValue } from '../kv/types.js';
import type { Page } from '../pagination.js';

/** A JSON object: the only thing a document's `data` may be. */
export type JsonObject = { [key: string]: JsonValue };

/**
 * A document as clients see it (SPEC §5). Times are ISO 8601 UTC strings; `createdBy` /
 * `updatedBy` are principal ids (`tok_…`, `system`).
 *
 * @example
 * const doc = await core.docs.get(SYSTEM_PRINCIPAL, 'projects/acme/releases/r42');
 * doc.revision; // the ETag: pass it back as `expect.revision` to write only over this state
 */
export interface Document {
  path: string;
  id: string;
  collection: string;
  data: JsonObject;
  /** Per document: 1 on creation, +1 per write; starts again at 1 after delete and re-create. */
  version: number;
  /** Global, strictly increasing across all documents, never reused. */
  revision: number;
  createdAt: string;
  updatedAt: string;
  createdBy: string;
  updatedBy: string;
}

/**
 * Conditions a write needs to hold, checked atomically with it. `revision`/`version` imply
 * `exists: true`; `exists: false` with either is a contradiction (400).
 *
 * @example
 * await core.docs.set(actor, 'projects/acme', { name: 'Acme' }, { expect: { exists: false } });
 */
export interface DocPrecondition {
  exists?: boolean;
  revision?: number;
  version?: number;
}

/** One operation of RFC 6902 JSON patch. */
export type JsonPatchOperation =
  | { op: 'add' | 'replace' | 'test'; path: string; value: JsonValue }
  | { op: 'remove'; path: string }
  | { op: 'move' | 'copy'; from: string; path: string };

/** A patch: an RFC 7396 merge patch (an object) or an RFC 6902 JSON patch (an array of operations). */
export type DocPatch = JsonObject | JsonPatchOperation[];

/**
 * One write of a commit (and the shape `set`/`patch`/`delete` are built on).
 *
 * @example
 * { op: 'patch', path: 'projects/acme', data: { status: 'green' }, expect: { revision: 12 } }
 */
export type CommitWrite =
  | { op: 'set'; path: string; data: JsonObject; expect?: DocPrecondition }
  | { op: 'patch'; path: string; data: DocPatch; expect?: DocPrecondition }
  | { op: 'delete'; path: string; expect?: DocPrecondition; recursive?: boolean };

export interface CommitResult {
  /** Per write, in order: the revision it produced (for a recursive delete, the root's or the last one). */
  results: { path: string; revision: number; version: number | null; deleted?: number }[];
  /** The last revision the commit produced. */
  revision: number;
}

/** One filter: a Mongo-style subset (see docs/documents.md for the exact semantics). */
export type DocFilter = { [fieldOrOperator: string]: JsonValue };

export interface DocOrderTerm {
  field: string;
  direction: 'asc' | 'desc';
}

/**
 * A query (`POST /api/doc-store/query`). `allDescendants` makes it a collection-group query:
 * every collection with the id `collection`, optionally only below `parent`.
 *
 * @example
 * await core.docs.query(actor, {
 *   from: { collection: 'checks', parent: 'projects/acme', allDescendants: true },
 *   where: { status: 'failed', attempts: { $gte: 3 } },
 *   orderBy: [{ field: 'updatedAt', direction: 'desc' }],
 *   limit: 50,
 * });
 */
export interface DocQuery {
  from: { collection: string; parent?: string; allDescendants?: boolean };
  where?: DocFilter;
  orderBy?: DocOrderTerm[];
  limit?: number;
  cursor?: string;
  /** Data fields to return (dotted); the metadata fields are always returned. */
  select?: string[];
}

/** A past state of a document. `data` is null for a deletion. */
export interface DocHistoryEntry {
  path: string;
  version: number;
  revision: number;
  op: 'create' | 'update' | 'delete';
  data: JsonObject | null;
  at: string;
  actor: string;
}

/**
 * One entry of the change feed (no data: read the document, or its history, for that).
 * `seq` is the change's `doc.*` event number in the event log: the feed's order and cursor.
 */
export interface DocChange {
  seq: number;
  revision: number;
  op: 'create' | 'update' | 'delete';
  path: string;
  collection: string;
  id: string;
  version: number;
  at: string;
  actor: string;
}

export interface DocChangesOptions {
  /**
   * An event-log seq (a previous `nextAfter` or an item's `seq`): only changes numbered after
   * it (default 0: from the oldest retained event). Not a revision.
   */
  after?: number;
  /** Only documents in collections with this id. */
  collection?: string;
  /** Only documents below this path (a collection or document path). */
  parent?: string;
  limit?: number;
}

/** A collection below a document (or at the root). */
export interface DocCollection {
  id: string;
  path: string;
}

/** Options of a collection listing (`GET /docs/{collectionPath}`). */
export interface DocListOptions {
  where?: DocFilter;
  orderBy?: DocOrderTerm[];
  limit?: number;
  cursor?: string;
  select?: string[];
}

/**
 * The document store (SPEC §5). Reached as `core.docs`. Every method takes the acting
 * principal and checks its `docs:read` / `docs:write` scopes (narrowed by path pattern),
 * also inside queries: a principal never sees a document it may not read.
 *
 * @example
 * const doc = await core.docs.set(SYSTEM_PRINCIPAL, 'projects/acme', { name: 'Acme' });
 * await core.docs.patch(SYSTEM_PRINCIPAL, doc.path, { status: 'green' }, { expect: { revision: doc.revision } });
 */
export interface DocService {
  /** `NOT_FOUND` when missing. */
  get(actor: Principal, path: string): Promise<Document>;
  /** Creates or replaces. Precondition failures are `PRECONDITION_FAILED` with `details.currentRevision`. */
  set(actor: Principal, path: string, data: JsonObject, options?: { expect?: DocPrecondition }): Promise<Document>;
  /** Creates a document with a server-chosen id in a collection. */
  create(actor: Principal, collectionPath: string, data: JsonObject): Promise<Document>;
  /** Merge patch (object) or JSON patch (array); `NOT_FOUND` when missing; a failing `test` is `PRECONDITION_FAILED`. */
  patch(actor: Principal, path: string, patch: DocPatch, options?: { expect?: DocPrecondition }): Promise<Document>;
  /** Deletes (with `recursive`, the whole subtree); returns the revision and how many documents went. */
  delete(
    actor: Principal,
    path: string,
    options?: { expect?: DocPrecondition; recursive?: boolean },
  ): Promise<{ revision: number; deleted: number }>;
  /** All writes or none; a failing write is `CONFLICT` with `details.index` (and its reason). */
  commit(actor: Principal, writes: readonly CommitWrite[]): Promise<CommitResult>;
  /** Lists one collection. */
  list(actor: Principal, collectionPath: string, options?: DocListOptions): Promise<Page<Document>>;
  query(actor: Principal, query: DocQuery): Promise<Page<Document>>;
  /** Collections at the root (no path) or below a document. */
  collections(
    actor: Principal,
    docPath?: string,
    options?: { cursor?: string; limit?: number },
  ): Promise<Page<DocCollection>>;
  /** Newest first. */
  history(
    actor: Principal,
    path: string,
    options?: { cursor?: string; limit?: number },
  ): Promise<Page<DocHistoryEntry>>;
  /** One past version (of the newest lifetime that had it); `NOT_FOUND` when not retained. */
  historyVersion(actor: Principal, path: string, version: number): Promise<DocHistoryEntry>;
  /** The change feed in event-log order (`seq`), oldest first; `nextAfter` (a seq) is where the next poll starts. */
  changes(actor: Principal, options?: DocChangesOptions): Promise<{ items: DocChange[]; nextAfter: number }>;
  /** Applies the history retention now (the background pruner calls this); returns how many entries went. */
  pruneHistory(): Promise<number>;
}
