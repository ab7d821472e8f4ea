import { authorize } from '../auth/scopes.js';
import type { Principal } from '../auth/types.js';
import type { Clock } from '../clock.js';
import { ProServerError } from '../errors.js';
import { assertRetainedAfter } from '../events/retained.js';
import { DEFAULT_PAGE_LIMIT, decodeCursor, encodeCursor, type Page } from '../pagination.js';
import type { DocHistoryRecord, DocRecord, DocStore, DocStoreQuery, EventStore } from '../storage/ports.js';
import { parseInput } from '../validation.js';
import { parseField } from './fields.js';
import { parseFilter } from './filter.js';
import { fieldValue } from './json-semantics.js';
import { setMember } from './merge-patch.js';
import { decodeQueryCursor, encodeQueryCursor, queryFingerprint, resolveOrder, sortKey, sortSlots } from './order.js';
import { parseCollectionId, parseCollectionPath, parseDocPath, splitPath } from './paths.js';
import type { DocHistoryEntry, DocQuery, DocService, Document, JsonObject } from './types.js';
import { docChangesOptionsSchema, docListOptionsSchema, docPageOptionsSchema, docQuerySchema } from './validation.js';
import { mayReadBelow, scopePatterns } from './visibility.js';

/** A store record as clients see it. */
export function toDocument(record: DocRecord): Document {
  return {
    path: record.path,
    id: record.id,
    collection: record.collection,
    data: record.data,
    version: record.version,
    revision: record.revision,
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
    createdBy: record.createdBy,
    updatedBy: record.updatedBy,
  };
}

function toHistoryEntry(record: DocHistoryRecord): DocHistoryEntry {
  return {
    path: record.path,
    version: record.version,
    revision: record.revision,
    op: record.op,
    data: record.data,
    at: record.at.toISOString(),
    actor: record.actor,
  };
}

/** Keeps only the selected data fields (nested objects rebuilt along each path). */
function project(data: JsonObject, select: readonly string[][]): JsonObject {
  const out: JsonObject = {};
  for (const segments of select) {
    const value = fieldValue(data, segments);
    if (value === undefined) continue;
    let target = out;
    segments.slice(0, -1).forEach((segment) => {
      const next = target[segment];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) setMember(target, segment, {});
      target = target[segment] as JsonObject;
    });
    setMember(target, segments.at(-1) as string, structuredClone(value));
  }
  return out;
}

interface RevisionCursor extends Record<string, unknown> {
  r: number;
}
const isRevisionCursor = (value: Record<string, unknown>): value is RevisionCursor =>
  typeof value.r === 'number' && Number.isSafeInteger(value.r);
interface CollectionCursor extends Record<string, unknown> {
  c: string;
}
const isCollectionCursor = (value: Record<string, unknown>): value is CollectionCursor =>
  typeof value.c === 'string' && /^[A-Za-z0-9_.~-]{1,128}$/.test(value.c);

type Reads = Pick<
  DocService,
  'get' | 'list' | 'query' | 'collections' | 'history' | 'historyVersion' | 'changes' | 'pruneHistory'
>;

/** The read side of the document service (see service.ts). */
export function createDocReads(options: {
  store: DocStore;
  /** The event log's bounds: the change feed refuses a resume point purged by retention. */
  events: Pick<EventStore, 'bounds'>;
  clock: Clock;
  maxHistoryAgeMs: number | null;
  pruneBatchSize: number;
}): Reads {
  const { store, clock } = options;

  const runQuery = async (actor: Principal, query: DocQuery): Promise<Page<Document>> => {
    const parsed = parseInput(docQuerySchema, query, 'query');
    authorize(actor, 'docs:read');
    const { from } = parsed;
    let scope: DocStoreQuery['scope'];
    if (from.allDescendants) {
      const collection = parseCollectionId(from.collection, 'from.collection');
      const under = from.parent === undefined ? null : splitPath(from.parent, 'from.parent', 'the parent').join('/');
      scope = { kind: 'group', collection, under };
    } else {
      const full = from.parent === undefined ? from.collection : `${from.parent}/${from.collection}`;
      const { parentPath, collection } = parseCollectionPath(
        full,
        from.parent === undefined ? 'from.collection' : 'from',
      );
      scope = { kind: 'collection', parentPath, collection };
    }
    const filter = parseFilter(parsed.where);
    const order = resolveOrder(parsed.orderBy);
    const select = parsed.select?.map((field, index) => parseField(field, `select.${index}`));
    const fingerprint = queryFingerprint({ scope, filter, order });
    const slots = sortSlots(order);
    const after = parsed.cursor === undefined ? null : decodeQueryCursor(parsed.cursor, fingerprint, slots);
    const limit = parsed.limit ?? DEFAULT_PAGE_LIMIT;
    const records = await store.query({
      scope,
      filter,
      order,
      after,
      visibility: scopePatterns(actor, 'docs:read'),
      limit: limit + 1,
    });
    const page = records.slice(0, limit);
    const last = page.at(-1);
    const dataFields = select?.flatMap((ref) => (ref.kind === 'data' ? [ref.segments] : []));
    return {
      items: page.map((record) => {
        const document = toDocument(record);
        return dataFields ? { ...document, data: project(document.data, dataFields) } : document;
      }),
      nextCursor: records.length > limit && last ? encodeQueryCursor(fingerprint, sortKey(last, order)) : null,
    };
  };

  return {
    async get(actor, path) {
      const parts = parseDocPath(path);
      authorize(actor, 'docs:read', parts.path);
      const record = await store.get(parts.path);
      if (!record) throw new ProServerError('NOT_FOUND', `document ${parts.path} does not exist`);
      return toDocument(record);
    },

    query: runQuery,

    async list(actor, collectionPath, listOptions = {}) {
      const parsed = parseInput(docListOptionsSchema, listOptions, 'list options');
      const { path } = parseCollectionPath(collectionPath);
      return runQuery(actor, { ...parsed, from: { collection: path } } as DocQuery);
    },

    async collections(actor, docPath, pageOptions = {}) {
      const parent = docPath === undefined ? '' : parseDocPath(docPath).path;
      if (!mayReadBelow(actor, parent)) {
        const scope = parent === '' ? 'docs:read' : `docs:read:${parent}/**`;
        throw new ProServerError('FORBIDDEN', `needs scope ${scope}`, { details: { scope } });
      }
      const parsed = parseInput(docPageOptionsSchema, pageOptions, 'options');
      const limit = parsed.limit ?? DEFAULT_PAGE_LIMIT;
      const after = parsed.cursor === undefined ? null : decodeCursor(parsed.cursor, isCollectionCursor).c;
      const ids = await store.collections(parent, after, limit + 1);
      const page = ids.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map((id) => ({ id, path: parent === '' ? id : `${parent}/${id}` })),
        nextCursor: ids.length > limit && last ? encodeCursor({ c: last }) : null,
      };
    },

    async history(actor, path, pageOptions = {}) {
      const parts = parseDocPath(path);
      authorize(actor, 'docs:read', parts.path);
      const parsed = parseInput(docPageOptionsSchema, pageOptions, 'options');
      const limit = parsed.limit ?? DEFAULT_PAGE_LIMIT;
      const before = parsed.cursor === undefined ? null : decodeCursor(parsed.cursor, isRevisionCursor).r;
      const records = await store.history(parts.path, before, limit + 1);
      const page = records.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(toHistoryEntry),
        nextCursor: records.length > limit && last ? encodeCursor({ r: last.revision }) : null,
      };
    },

    async historyVersion(actor, path, version) {
      const parts = parseDocPath(path);
      authorize(actor, 'docs:read', parts.path);
      if (!Number.isSafeInteger(version) || version < 1) {
        throw new ProServerError('VALIDATION_FAILED', 'version must be a whole number from 1', {
          errors: [{ path: 'version', message: 'must be a whole number from 1' }],
        });
      }
      const record = await store.historyVersion(parts.path, version);
      if (!record) throw new ProServerError('NOT_FOUND', `${parts.path} has no retained version ${version}`);
      return toHistoryEntry(record);
    },

    async changes(actor, changeOptions = {}) {
      const parsed = parseInput(docChangesOptionsSchema, changeOptions, 'options');
      authorize(actor, 'docs:read');
      const after = parsed.after ?? 0;
      // Resuming from a seq whose following changes were purged would skip them: say so.
      if (parsed.after !== undefined) await assertRetainedAfter(options.events, after);
      const limit = parsed.limit ?? DEFAULT_PAGE_LIMIT;
      const { records, lastSeq } = await store.changes({
        after,
        collection: parsed.collection === undefined ? null : parseCollectionId(parsed.collection),
        under: parsed.parent === undefined ? null : splitPath(parsed.parent, 'parent', 'the parent').join('/'),
        visibility: scopePatterns(actor, 'docs:read'),
        limit,
      });
      // `after` and `nextAfter` are event-log seqs. A short page read everything up to the
      // newest seq: the next poll may start there, which skips the changes (and other events)
      // this reader cannot see or did not ask for.
      const nextAfter = records.length < limit ? Math.max(after, lastSeq) : (records.at(-1)?.seq ?? after);
      return {
        items: records.map((record) => ({
          seq: record.seq,
          revision: record.revision,
          op: record.op,
          path: record.path,
          collection: record.collection,
          id: record.id,
          version: record.version,
          at: record.at.toISOString(),
          actor: record.actor,
        })),
        nextAfter,
      };
    },

    async pruneHistory() {
      if (options.maxHistoryAgeMs === null) return 0;
      let total = 0;
      for (;;) {
        const before = new Date(clock.now().getTime() - options.maxHistoryAgeMs);
        const removed = await store.pruneHistory(before, options.pruneBatchSize);
        total += removed;
        if (removed < options.pruneBatchSize) return total;
      }
    },
  };
}
