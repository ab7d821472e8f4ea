import type {
  DocChange,
  DocChangesOptions,
  DocCollection,
  DocCommitResult,
  DocCommitWrite,
  DocData,
  DocHistoryEntry,
  DocListOptions,
  DocQuery,
  Document,
  DocWriteCondition,
  JsonPatchOperation,
} from './docs-types.js';
import { ApiError, errorFromResponse, isApiError } from './errors.js';
import { paginate } from './pagination.js';
import { type RequestSpec, readJson, type Transport } from './transport.js';
import type { Page, PageOptions } from './types.js';

const BASE = '/doc-store';

/**
 * An {@link ApiError} of the document store that says more: on `PRECONDITION_FAILED` (412)
 * the document's `currentRevision` (null when it does not exist), on a commit's `CONFLICT`
 * (409) the `index` of the failing write and its `reason`.
 *
 * @example
 * catch (error) { if (error instanceof DocApiError && error.code === 'PRECONDITION_FAILED') retryFrom(error.currentRevision); }
 */
export class DocApiError extends ApiError {
  currentRevision?: number | null;
  index?: number;
  reason?: string;
}

/**
 * The document store (`/api/doc-store`, SPEC §5). Reached as `client.docs`.
 *
 * @example
 * const doc = await client.docs.set('projects/acme', { name: 'Acme', status: 'green' });
 * await client.docs.update('projects/acme', (data) => ({ ...data, status: 'red' }));
 */
export interface DocsClient {
  /** `NOT_FOUND` (404) when missing. */
  get<T extends DocData = DocData>(path: string): Promise<Document<T>>;
  /** The document, or null when it is still at `revision` (HTTP 304). */
  getIfChanged<T extends DocData = DocData>(path: string, revision: number): Promise<Document<T> | null>;
  /** Create or replace (`PRECONDITION_FAILED` when a condition fails). */
  set<T extends DocData>(path: string, data: T, condition?: DocWriteCondition): Promise<Document<T>>;
  /** Create with a server id in a collection. */
  create<T extends DocData>(collectionPath: string, data: T): Promise<Document<T>>;
  /** Merge patch (object) or JSON patch (array; its `test` operations are field-level preconditions). */
  patch(path: string, patch: DocData | JsonPatchOperation[], condition?: DocWriteCondition): Promise<Document>;
  /** Delete (with `recursive`, the whole subtree). */
  delete(
    path: string,
    options?: DocWriteCondition & { recursive?: boolean },
  ): Promise<{ path: string; revision: number; deleted: number }>;
  /**
   * Optimistic update: reads the document, applies `change` to its data, writes with
   * `If-Match` and, if someone else wrote meanwhile, starts again (at most `maxRetries`
   * times, default 5; then the last `PRECONDITION_FAILED` is thrown).
   */
  update<T extends DocData = DocData>(
    path: string,
    change: (data: T, document: Document<T>) => T | Promise<T>,
    options?: { maxRetries?: number },
  ): Promise<Document<T>>;
  list(collectionPath: string, options?: DocListOptions): Promise<Page<Document>>;
  listAll(collectionPath: string, options?: DocListOptions): AsyncIterable<Page<Document>>;
  query(query: DocQuery): Promise<Page<Document>>;
  queryAll(query: DocQuery): AsyncIterable<Page<Document>>;
  /** All writes or none (`CONFLICT`, 409, with the failing `index`). */
  commit(writes: DocCommitWrite[]): Promise<DocCommitResult>;
  /** Collections at the root (no path) or below a document. */
  collections(docPath?: string, options?: PageOptions): Promise<Page<DocCollection>>;
  history(path: string, options?: PageOptions): Promise<Page<DocHistoryEntry>>;
  historyVersion(path: string, version: number): Promise<DocHistoryEntry>;
  /** The change feed in event-log order: poll again with `after: nextAfter` (an event seq, not a revision). */
  changes(options?: DocChangesOptions): Promise<{ items: DocChange[]; nextAfter: number }>;
}

/** Each segment percent-encoded, the slashes kept. */
function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

function conditionHeaders(condition: DocWriteCondition = {}): Record<string, string> {
  const headers: Record<string, string> = {};
  if (condition.ifRevision !== undefined) headers['if-match'] = `"${condition.ifRevision}"`;
  else if (condition.mustExist) headers['if-match'] = '*';
  if (condition.mustNotExist) headers['if-none-match'] = '*';
  return headers;
}

/** Builds the document section of a client. */
export function createDocsClient(transport: Transport): DocsClient {
  /** Like transport.json, but 409/412 problems become DocApiErrors with their extension members. */
  async function call<T>(spec: RequestSpec): Promise<T> {
    const response = await transport.send(spec, [409, 412]);
    if (response.status === 409 || response.status === 412) throw await docError(response);
    return (await readJson(response)) as T;
  }

  const list = (collectionPath: string, options: DocListOptions = {}) =>
    transport.json<Page<Document>>({
      method: 'GET',
      path: `${BASE}/docs/${encodePath(collectionPath)}`,
      query: {
        where: options.where === undefined ? undefined : JSON.stringify(options.where),
        orderBy: options.orderBy?.map((t) => `${t.direction === 'desc' ? '-' : ''}${t.field}`).join(','),
        select: options.select?.join(','),
        limit: options.limit,
        cursor: options.cursor,
      },
    });
  const query = (q: DocQuery) => transport.json<Page<Document>>({ method: 'POST', path: `${BASE}/query`, json: q });

  const client: DocsClient = {
    get: async (path) => transport.json({ method: 'GET', path: `${BASE}/docs/${encodePath(path)}` }),
    async getIfChanged(path, revision) {
      const response = await transport.send(
        { method: 'GET', path: `${BASE}/docs/${encodePath(path)}`, headers: { 'if-none-match': `"${revision}"` } },
        [304],
      );
      if (response.status === 304) return null;
      return (await readJson(response)) as never;
    },
    set: async (path, data, condition) =>
      call({
        method: 'PUT',
        path: `${BASE}/docs/${encodePath(path)}`,
        json: { data, ...(condition?.ifVersion === undefined ? {} : { expectedVersion: condition.ifVersion }) },
        headers: conditionHeaders(condition),
      }),
    create: async (collectionPath, data) =>
      call({ method: 'POST', path: `${BASE}/docs/${encodePath(collectionPath)}`, json: { data } }),
    patch: async (path, patch, condition) =>
      call({
        method: 'PATCH',
        path: `${BASE}/docs/${encodePath(path)}`,
        raw: {
          body: JSON.stringify(patch),
          contentType: Array.isArray(patch) ? 'application/json-patch+json' : 'application/merge-patch+json',
        },
        headers: conditionHeaders(condition),
      }),
    delete: async (path, options = {}) =>
      call({
        method: 'DELETE',
        path: `${BASE}/docs/${encodePath(path)}`,
        query: { recursive: options.recursive ? 'true' : undefined },
        headers: conditionHeaders(options),
      }),
    async update(path, change, options = {}) {
      const maxRetries = options.maxRetries ?? 5;
      for (let attempt = 0; ; attempt++) {
        const current = await client.get<never>(path);
        const next = await change(current.data, current);
        try {
          return (await client.set(path, next, { ifRevision: current.revision })) as never;
        } catch (error) {
          if (!isApiError(error, 'PRECONDITION_FAILED') || attempt >= maxRetries) throw error;
        }
      }
    },
    list,
    listAll: (collectionPath, options = {}) =>
      paginate((cursor) => list(collectionPath, { ...options, cursor }), options.cursor),
    query,
    queryAll: (q) => paginate((cursor) => query({ ...q, ...(cursor ? { cursor } : {}) }), q.cursor),
    commit: async (writes) => call({ method: 'POST', path: `${BASE}/commit`, json: { writes } }),
    collections: async (docPath, options = {}) =>
      transport.json({
        method: 'GET',
        path: docPath === undefined ? `${BASE}/collections` : `${BASE}/collections/${encodePath(docPath)}`,
        query: { limit: options.limit, cursor: options.cursor },
      }),
    history: async (path, options = {}) =>
      transport.json({
        method: 'GET',
        path: `${BASE}/history/${encodePath(path)}`,
        query: { limit: options.limit, cursor: options.cursor },
      }),
    historyVersion: async (path, version) =>
      transport.json({ method: 'GET', path: `${BASE}/history/${encodePath(path)}`, query: { version } }),
    changes: async (options = {}) =>
      transport.json({
        method: 'GET',
        path: `${BASE}/changes`,
        query: { after: options.after, collection: options.collection, parent: options.parent, limit: options.limit },
      }),
  };
  return client;
}

async function docError(response: Response): Promise<DocApiError> {
  const copy = response.clone();
  const base = await errorFromResponse(response);
  const error = new DocApiError({
    status: base.status,
    code: base.code,
    detail: base.detail,
    requestId: base.requestId,
    ...(base.title === undefined ? {} : { title: base.title }),
    ...(base.type === undefined ? {} : { type: base.type }),
    ...(base.errors === undefined ? {} : { errors: base.errors }),
  });
  try {
    const body = (await copy.json()) as { currentRevision?: unknown; index?: unknown; reason?: unknown };
    if (typeof body.currentRevision === 'number' || body.currentRevision === null)
      error.currentRevision = body.currentRevision;
    if (typeof body.index === 'number') error.index = body.index;
    if (typeof body.reason === 'string') error.reason = body.reason;
  } catch {
    // Not a JSON problem: the base error already says what came back.
  }
  return error;
}
