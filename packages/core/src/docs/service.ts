import { actorIdOf } from '../auth/actor.js';
import { authorize } from '../auth/scopes.js';
import type { Principal } from '../auth/types.js';
import type { Clock } from '../clock.js';
import { ProServerError } from '../errors.js';
import type { Ids } from '../ids.js';
import type { DocRecord, DocStore, DocStoreWrite, DocWriteOutcome, EventStore } from '../storage/ports.js';
import { parseInput } from '../validation.js';
import { newDocumentId } from './doc-ids.js';
import { type DocPathParts, parseCollectionPath, parseDocPath } from './paths.js';
import { createDocReads, toDocument } from './read-service.js';
import type { CommitWrite, DocPrecondition, DocService } from './types.js';
import { commitInputSchema, docDataSchema, docPatchSchema, docPreconditionSchema } from './validation.js';
import { checkSize, decideDelete, decidePatch, decideSet } from './write-decisions.js';

export interface DocServiceOptions {
  store: DocStore;
  clock: Clock;
  ids: Ids;
  /** Largest document, as UTF-8 JSON text (default 1 MiB). */
  maxDocumentBytes: number;
  /** Per document, keep at most this many history entries (null: all). */
  maxHistoryVersions: number | null;
  /** Drop history entries older than this (the newest entry of a live document is always kept; null: never). */
  maxHistoryAgeMs: number | null;
  /** The event log's bounds (the change feed checks resume points against retention). */
  events: Pick<EventStore, 'bounds'>;
  /** Most documents one recursive delete may remove. */
  maxRecursiveDelete?: number;
}

export const DEFAULT_MAX_DOCUMENT_BYTES = 1024 * 1024;
export const DEFAULT_MAX_RECURSIVE_DELETE = 10_000;
const PRUNE_BATCH_SIZE = 1000;

/**
 * The document store service (SPEC §5) over any {@link DocStore}: validates every input,
 * checks scopes (per path for writes, inside the query for reads) and turns each write into
 * a store commit whose decisions (preconditions, patches) run atomically with it.
 *
 * @example
 * const docs = createDocService({ store, clock: systemClock, ids: createIds(), maxDocumentBytes: 1 << 20,
 *   maxHistoryVersions: 100, maxHistoryAgeMs: null });
 * await docs.set(SYSTEM_PRINCIPAL, 'projects/acme', { name: 'Acme' });
 */
export function createDocService(options: DocServiceOptions): DocService {
  const { store, clock, ids, maxDocumentBytes } = options;
  const maxRecursive = options.maxRecursiveDelete ?? DEFAULT_MAX_RECURSIVE_DELETE;

  const parseData = (data: unknown, field = 'data') => {
    const parsed = parseInput(docDataSchema, data, field);
    checkSize(parsed, maxDocumentBytes);
    return parsed;
  };
  const parseExpect = (expect: unknown, field = 'expect'): DocPrecondition | undefined =>
    expect === undefined ? undefined : parseInput(docPreconditionSchema, expect, field);

  const run = async (actor: Principal, writes: DocStoreWrite[]): Promise<DocWriteOutcome[]> =>
    store.commit(writes, {
      now: clock.now(),
      change: { actor: actorIdOf(actor), ids },
      maxHistoryVersions: options.maxHistoryVersions,
    });

  const target = (parts: DocPathParts) => ({
    path: parts.path,
    parentPath: parts.parentPath,
    collection: parts.collection,
    id: parts.id,
  });

  const written = (outcome: DocWriteOutcome | undefined): DocRecord => {
    if (!outcome?.document) throw new Error('a put produced no document');
    return outcome.document;
  };

  const deleteWrite = (
    actor: Principal,
    parts: DocPathParts,
    expect: DocPrecondition | undefined,
    recursive: boolean,
    strict: boolean,
  ): DocStoreWrite => ({
    target: target(parts),
    decide: decideDelete(parts.path, expect, strict),
    ...(recursive
      ? {
          recursive: {
            maxDocuments: maxRecursive,
            check: (paths: readonly string[]) => {
              for (const path of paths) authorize(actor, 'docs:write', path);
            },
          },
        }
      : {}),
  });

  /** Parses and authorises one commit write; the store write it becomes. */
  const toStoreWrite = (actor: Principal, write: CommitWrite, index: number): DocStoreWrite => {
    const parts = parseDocPath(write.path, `writes.${index}.path`);
    authorize(actor, 'docs:write', parts.path);
    if (write.op === 'set') {
      checkSize(write.data, maxDocumentBytes);
      return { target: target(parts), decide: decideSet(parts.path, write.data, write.expect) };
    }
    if (write.op === 'patch') {
      return { target: target(parts), decide: decidePatch(parts.path, write.data, write.expect, maxDocumentBytes) };
    }
    return deleteWrite(actor, parts, write.expect, write.recursive ?? false, false);
  };

  return {
    ...createDocReads({
      store,
      events: options.events,
      clock,
      maxHistoryAgeMs: options.maxHistoryAgeMs,
      pruneBatchSize: PRUNE_BATCH_SIZE,
    }),

    async set(actor, path, data, writeOptions = {}) {
      const parts = parseDocPath(path);
      authorize(actor, 'docs:write', parts.path);
      const parsed = parseData(data);
      const expect = parseExpect(writeOptions.expect);
      const [outcome] = await run(actor, [{ target: target(parts), decide: decideSet(parts.path, parsed, expect) }]);
      return toDocument(written(outcome));
    },

    async create(actor, collectionPath, data) {
      const collection = parseCollectionPath(collectionPath);
      const parts = parseDocPath(`${collection.path}/${newDocumentId(clock.now())}`);
      authorize(actor, 'docs:write', parts.path);
      const parsed = parseData(data);
      const [outcome] = await run(actor, [
        { target: target(parts), decide: decideSet(parts.path, parsed, { exists: false }) },
      ]);
      return toDocument(written(outcome));
    },

    async patch(actor, path, patch, writeOptions = {}) {
      const parts = parseDocPath(path);
      authorize(actor, 'docs:write', parts.path);
      const parsed = parseInput(docPatchSchema, patch, 'patch');
      const expect = parseExpect(writeOptions.expect);
      const decide = decidePatch(parts.path, parsed, expect, maxDocumentBytes);
      const [outcome] = await run(actor, [{ target: target(parts), decide }]);
      return toDocument(written(outcome));
    },

    async delete(actor, path, deleteOptions = {}) {
      const parts = parseDocPath(path);
      authorize(actor, 'docs:write', parts.path);
      const expect = parseExpect(deleteOptions.expect);
      const [outcome] = await run(actor, [deleteWrite(actor, parts, expect, deleteOptions.recursive === true, true)]);
      return { revision: outcome?.revision ?? 0, deleted: outcome?.deleted ?? 0 };
    },

    async commit(actor, writes) {
      const parsed = parseInput(commitInputSchema, { writes }, 'commit');
      const storeWrites = parsed.writes.map((write, index) => {
        const storeWrite = toStoreWrite(actor, write as CommitWrite, index);
        const decide = storeWrite.decide;
        return {
          ...storeWrite,
          decide: (current: DocRecord | null, below: number) =>
            failingAt(index, write.path, () => decide(current, below)),
        };
      });
      const outcomes = await run(actor, storeWrites);
      const revisions = outcomes.flatMap((outcome) => (outcome.revision === null ? [] : [outcome.revision]));
      return {
        results: outcomes.map((outcome) => ({
          path: outcome.path,
          revision: outcome.revision ?? 0,
          version: outcome.document?.version ?? null,
          ...(outcome.op === 'delete' || outcome.op === 'none' ? { deleted: outcome.deleted } : {}),
        })),
        revision: revisions.length > 0 ? Math.max(...revisions) : 0,
      };
    },
  };
}

/** A write of a commit failed: `CONFLICT` naming its index, with the reason and current revision. */
function failingAt<T>(index: number, path: string, decide: () => T): T {
  try {
    return decide();
  } catch (error) {
    if (!(error instanceof ProServerError)) throw error;
    const errors = error.errors?.map((e) => ({
      path: `writes.${index}.${e.path}`.replace(/\.$/, ''),
      message: e.message,
    }));
    throw new ProServerError('CONFLICT', `commit write ${index} (${path}) failed: ${error.message}`, {
      details: { index, reason: error.code, ...error.details },
      ...(errors ? { errors } : {}),
    });
  }
}
