import { docChangeFromEvent } from '../../docs/change-events.js';
import { materialize, planCommit } from '../../docs/commit-plan.js';
import { matchesFilter } from '../../docs/filter-eval.js';
import { compareSortKeys, type SortValue, sortKey, sortSlots } from '../../docs/order.js';
import { prefixEnd } from '../../docs/paths.js';
import { isVisible } from '../../docs/visibility.js';
import type {
  DocChangeRecord,
  DocChangesQuery,
  DocCommitOptions,
  DocHistoryRecord,
  DocRecord,
  DocStore,
  DocStoreQuery,
  DocStoreWrite,
  DocWriteOutcome,
} from '../ports.js';
import { SortedStrings } from './doc-store-paths.js';
import type { MemoryEventLog } from './event-log.js';

/** Events read from the log per step while filling a change-feed page. */
const CHANGE_SCAN_BATCH = 500;

/**
 * The document store in process memory, with PostgreSQL's guarantees: a commit is planned
 * over the current state and applied in one synchronous step together with its events
 * (so it is atomic); the change feed reads the `doc.*` events of the shared log; queries run the same filter semantics
 * and sort keys as the SQL compiler (docs/filter-eval.ts, docs/order.ts).
 *
 * Documents live in a Map by path plus a sorted path list (subtrees and collections are
 * ranges of it) and a per-collection-id index for collection-group queries. Records are
 * deep-copied in and out, so callers never share state with the store.
 *
 * @example
 * const store = new MemoryDocStore(new MemoryEventLog());
 */
export class MemoryDocStore implements DocStore {
  private readonly docs = new Map<string, DocRecord>();
  private readonly paths = new SortedStrings();
  private readonly byCollection = new Map<string, Set<string>>();
  /** Every history entry in revision order, and per path. */
  private entries: DocHistoryRecord[] = [];
  private readonly historyByPath = new Map<string, DocHistoryRecord[]>();
  private lastRevision = 0;

  constructor(private readonly log: MemoryEventLog) {}

  async get(path: string): Promise<DocRecord | null> {
    const doc = this.docs.get(path);
    return doc ? structuredClone(doc) : null;
  }

  async commit(writes: readonly DocStoreWrite[], options: DocCommitOptions): Promise<DocWriteOutcome[]> {
    const { now, change } = options;
    const plan = planCommit(
      writes,
      { get: (path) => this.docs.get(path) ?? null, subtree: (path) => this.paths.withPrefix(`${path}/`) },
      now,
      change.actor ?? 'system',
    );
    // Planning threw nothing: apply everything now, in this same synchronous step.
    const revisions = Array.from({ length: plan.count }, (_, index) => this.lastRevision + index + 1);
    const { outcomes, changes, events } = materialize(plan, revisions, change, now);
    this.lastRevision += plan.count;
    for (const { record, history } of changes) {
      if (record) this.put(structuredClone(record));
      else this.remove(history.path);
      const entry = structuredClone(history);
      this.entries.push(entry);
      const list = this.historyByPath.get(entry.path) ?? [];
      list.push(entry);
      this.historyByPath.set(entry.path, list);
    }
    if (options.maxHistoryVersions !== null) this.trimHistory(changes, options.maxHistoryVersions);
    this.log.append(events);
    return outcomes;
  }

  async query(query: DocStoreQuery): Promise<DocRecord[]> {
    const slots = sortSlots(query.order);
    const matches: { doc: DocRecord; key: SortValue[] }[] = [];
    for (const path of this.candidates(query.scope)) {
      const doc = this.docs.get(path) as DocRecord;
      if (!isVisible(query.visibility, path) || !matchesFilter(doc, query.filter)) continue;
      const key = sortKey(doc, query.order);
      if (query.after && compareSortKeys(key, query.after, slots) <= 0) continue;
      matches.push({ doc, key });
    }
    matches.sort((a, b) => compareSortKeys(a.key, b.key, slots));
    return matches.slice(0, query.limit).map(({ doc }) => structuredClone(doc));
  }

  async collections(parentPath: string, afterId: string | null, limit: number): Promise<string[]> {
    const prefix = parentPath === '' ? '' : `${parentPath}/`;
    const ids: string[] = [];
    // The same skip-scan as the SQL: find the first path in range, take its collection, jump past it.
    let from = afterId === null ? prefix : `${prefix}${afterId}0`;
    while (ids.length < limit) {
      const next = this.paths.firstAtLeast(from);
      if (next === undefined || !next.startsWith(prefix)) break;
      const id = next.slice(prefix.length).split('/')[0] as string;
      ids.push(id);
      from = `${prefix}${id}0`;
    }
    return ids;
  }

  async history(path: string, beforeRevision: number | null, limit: number): Promise<DocHistoryRecord[]> {
    const list = this.historyByPath.get(path) ?? [];
    return list
      .filter((entry) => beforeRevision === null || entry.revision < beforeRevision)
      .reverse()
      .slice(0, limit)
      .map((entry) => structuredClone(entry));
  }

  async historyVersion(path: string, version: number): Promise<DocHistoryRecord | null> {
    const list = this.historyByPath.get(path) ?? [];
    const entry = list.findLast((candidate) => candidate.version === version);
    return entry ? structuredClone(entry) : null;
  }

  async changes(query: DocChangesQuery): Promise<{ records: DocChangeRecord[]; lastSeq: number }> {
    // The log numbers events in the same synchronous step as their change, so `last` read
    // now covers every change made so far.
    const lastSeq = this.log.bounds().last;
    const records: DocChangeRecord[] = [];
    let after = query.after;
    while (records.length < query.limit) {
      const batch = this.log.readAfter(after, CHANGE_SCAN_BATCH);
      for (const event of batch) {
        if (records.length >= query.limit) break;
        const change = docChangeFromEvent(event);
        if (!change) continue;
        if (query.collection !== null && change.collection !== query.collection) continue;
        if (query.under !== null && !change.path.startsWith(`${query.under}/`)) continue;
        if (!isVisible(query.visibility, change.path)) continue;
        records.push(change);
      }
      if (batch.length < CHANGE_SCAN_BATCH) break;
      after = batch.at(-1)?.seq ?? after;
    }
    return { records, lastSeq };
  }

  async pruneHistory(before: Date, limit: number): Promise<number> {
    const doomed = new Set<DocHistoryRecord>();
    for (const entry of this.entries) {
      if (doomed.size >= limit || entry.at.getTime() >= before.getTime()) break;
      const list = this.historyByPath.get(entry.path) ?? [];
      if (entry.op === 'delete' || list.at(-1) !== entry) doomed.add(entry);
    }
    if (doomed.size === 0) return 0;
    this.entries = this.entries.filter((entry) => !doomed.has(entry));
    for (const entry of doomed) this.dropFromPath(entry.path, (candidate) => !doomed.has(candidate));
    return doomed.size;
  }

  private trimHistory(changes: readonly { history: DocHistoryRecord }[], keep: number): void {
    const dropped = new Set<DocHistoryRecord>();
    for (const path of new Set(changes.map((c) => c.history.path))) {
      const list = this.historyByPath.get(path) ?? [];
      for (const entry of list.slice(0, Math.max(0, list.length - keep))) dropped.add(entry);
      this.dropFromPath(path, (entry) => !dropped.has(entry));
    }
    if (dropped.size > 0) this.entries = this.entries.filter((entry) => !dropped.has(entry));
  }

  private dropFromPath(path: string, keep: (entry: DocHistoryRecord) => boolean): void {
    const list = (this.historyByPath.get(path) ?? []).filter(keep);
    if (list.length === 0) this.historyByPath.delete(path);
    else this.historyByPath.set(path, list);
  }

  /** Paths in the query's scope, unsorted. */
  private *candidates(scope: DocStoreQuery['scope']): Iterable<string> {
    if (scope.kind === 'collection') {
      const prefix = scope.parentPath === '' ? `${scope.collection}/` : `${scope.parentPath}/${scope.collection}/`;
      for (const path of this.paths.range(prefix, prefixEnd(prefix))) {
        if (!path.includes('/', prefix.length)) yield path;
      }
      return;
    }
    const under = scope.under === null ? null : `${scope.under}/`;
    for (const path of this.byCollection.get(scope.collection) ?? []) {
      if (under === null || path.startsWith(under)) yield path;
    }
  }

  private put(doc: DocRecord): void {
    if (!this.docs.has(doc.path)) {
      this.paths.add(doc.path);
      const set = this.byCollection.get(doc.collection) ?? new Set<string>();
      set.add(doc.path);
      this.byCollection.set(doc.collection, set);
    }
    this.docs.set(doc.path, doc);
  }

  private remove(path: string): void {
    const doc = this.docs.get(path);
    if (!doc) return;
    this.docs.delete(path);
    this.paths.delete(path);
    this.byCollection.get(doc.collection)?.delete(path);
  }
}
