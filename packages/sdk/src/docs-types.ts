/**
 * The document store's wire format (SPEC §5), declared here: the SDK knows only what travels
 * over HTTP.
 */
import type { JsonValue, PageOptions } from './types.js';

/** A document's data: a JSON object. */
export type DocData = { [key: string]: JsonValue };

/**
 * A document. `revision` is its ETag: pass it back as `ifRevision` to write only over it.
 *
 * @example
 * const doc: Document = await client.docs.get('projects/acme');
 */
export interface Document<T extends DocData = DocData> {
  path: string;
  id: string;
  collection: string;
  data: T;
  version: number;
  revision: number;
  createdAt: string;
  updatedAt: string;
  createdBy: string;
  updatedBy: string;
}

/**
 * Conditions of a write: `ifRevision` (If-Match), `ifVersion` (the document's version),
 * `mustExist` / `mustNotExist`. A mismatch is `PRECONDITION_FAILED` (412).
 *
 * @example
 * await client.docs.set('projects/acme', { name: 'Acme' }, { mustNotExist: true });
 */
export interface DocWriteCondition {
  ifRevision?: number;
  ifVersion?: number;
  mustExist?: boolean;
  mustNotExist?: boolean;
}

/** One RFC 6902 operation. */
export type JsonPatchOperation =
  | { op: 'add' | 'replace' | 'test'; path: string; value: JsonValue }
  | { op: 'remove'; path: string }
  | { op: 'move' | 'copy'; from: string; path: string };

/** A filter (see docs/documents.md): `{status: 'failed', n: {$gte: 3}}`. */
export type DocFilter = { [fieldOrOperator: string]: JsonValue };

export interface DocOrderTerm {
  field: string;
  direction?: 'asc' | 'desc';
}

/**
 * Options of a collection listing.
 *
 * @example
 * await client.docs.list('projects/acme/builds', { where: { ok: false }, orderBy: [{ field: 'n', direction: 'desc' }] });
 */
export interface DocListOptions extends PageOptions {
  where?: DocFilter;
  orderBy?: DocOrderTerm[];
  select?: string[];
}

/**
 * A query: one collection, or with `allDescendants` every collection with that id (below `parent`).
 *
 * @example
 * await client.docs.query({ from: { collection: 'checks', allDescendants: true }, where: { status: 'failed' } });
 */
export interface DocQuery extends DocListOptions {
  from: { collection: string; parent?: string; allDescendants?: boolean };
}

/** One write of a commit. */
export type DocCommitWrite =
  | { op: 'set'; path: string; data: DocData; expect?: { exists?: boolean; revision?: number; version?: number } }
  | {
      op: 'patch';
      path: string;
      data: DocData | JsonPatchOperation[];
      expect?: { exists?: boolean; revision?: number; version?: number };
    }
  | {
      op: 'delete';
      path: string;
      recursive?: boolean;
      expect?: { exists?: boolean; revision?: number; version?: number };
    };

export interface DocCommitResult {
  results: { path: string; revision: number; version: number | null; deleted?: number }[];
  revision: number;
}

export interface DocHistoryEntry {
  path: string;
  version: number;
  revision: number;
  op: 'create' | 'update' | 'delete';
  data: DocData | null;
  at: string;
  actor: string;
}

/**
 * One change-feed entry. `seq` is the change's number in the event log (the feed's order and
 * cursor); `revision` is the document's revision after the change.
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
  /** An event-log seq (a previous `nextAfter`), not a revision; default 0: the oldest retained. */
  after?: number;
  collection?: string;
  parent?: string;
  limit?: number;
}

export interface DocCollection {
  id: string;
  path: string;
}
