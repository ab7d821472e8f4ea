/**
 * The pure heart of a commit, shared by the memory and PostgreSQL stores so both apply
 * writes identically: walk the writes in order over the state they find (earlier writes of
 * the same commit included), ask each write's `decide`, and answer every change with its
 * history entry and event. Nothing is applied here; a throw means nothing is written.
 * Revisions are numbered 1…n relative to the commit; the store maps them to real ones.
 */
import { ProServerError } from '../errors.js';
import type {
  ChangeContext,
  DocHistoryRecord,
  DocRecord,
  DocStoreWrite,
  DocWriteOutcome,
  NewEvent,
} from '../storage/ports.js';

/** What a plan needs to read: current documents and the paths of a subtree. */
export interface CommitPlanState {
  get(path: string): DocRecord | null;
  /** Every stored path strictly below `path/`, in path order. */
  subtree(path: string): readonly string[];
}

export interface PlannedChange {
  /** The document after the change; null when deleted. */
  record: DocRecord | null;
  history: DocHistoryRecord;
}

export interface CommitPlan {
  outcomes: DocWriteOutcome[];
  changes: PlannedChange[];
  /** Revisions used (the relative revisions are 1…count). */
  count: number;
}

/** The `doc.*` event types, one per change. */
export const DOC_EVENT_TYPES = { create: 'doc.created', update: 'doc.updated', delete: 'doc.deleted' } as const;

/**
 * Plans a commit over `state`.
 *
 * @example
 * const plan = planCommit(writes, { get: (p) => docs.get(p) ?? null, subtree: below }, now, 'tok_1');
 */
export function planCommit(
  writes: readonly DocStoreWrite[],
  state: CommitPlanState,
  now: Date,
  actor: string,
): CommitPlan {
  const overlay = new Map<string, DocRecord | null>();
  const current = (path: string) => (overlay.has(path) ? (overlay.get(path) ?? null) : state.get(path));
  const changes: PlannedChange[] = [];
  const outcomes: DocWriteOutcome[] = [];
  let count = 0;

  const record = (next: DocRecord | null, previous: DocRecord | null, op: DocHistoryRecord['op']) => {
    const base = (next ?? previous) as DocRecord;
    const revision = ++count;
    const version = next ? next.version : (previous?.version ?? 0) + 1;
    const stored = next ? { ...next, revision } : null;
    overlay.set(base.path, stored);
    changes.push({
      record: stored,
      history: {
        revision,
        path: base.path,
        parentPath: base.parentPath,
        collection: base.collection,
        id: base.id,
        version,
        op,
        data: stored ? stored.data : null,
        at: new Date(now),
        actor,
      },
    });
    return { revision, version };
  };

  for (const write of writes) {
    const { target } = write;
    const existing = current(target.path);
    const below = write.recursive ? descendants(target.path, state, overlay) : [];
    if (write.recursive) {
      if (below.length > write.recursive.maxDocuments) {
        throw new ProServerError(
          'VALIDATION_FAILED',
          `${target.path} has more than ${write.recursive.maxDocuments} documents below it; delete it in parts`,
          { errors: [{ path: 'path', message: 'subtree too large for one recursive delete' }] },
        );
      }
      write.recursive.check(below);
    }
    const decision = write.decide(existing, below.length);
    if (decision.kind === 'put') {
      const next: DocRecord = {
        path: target.path,
        parentPath: target.parentPath,
        collection: target.collection,
        id: target.id,
        data: decision.data,
        version: (existing?.version ?? 0) + 1,
        revision: 0,
        createdAt: existing ? existing.createdAt : new Date(now),
        updatedAt: new Date(now),
        createdBy: existing ? existing.createdBy : actor,
        updatedBy: actor,
      };
      const { revision, version } = record(next, existing, existing ? 'update' : 'create');
      const document = { ...next, revision };
      outcomes.push({ path: target.path, op: existing ? 'update' : 'create', revision, version, deleted: 0, document });
      continue;
    }
    let last: number | null = null;
    let deleted = 0;
    for (const path of existing ? [target.path, ...below] : below) {
      const doc = current(path);
      if (!doc) continue;
      last = record(null, doc, 'delete').revision;
      deleted += 1;
    }
    outcomes.push({
      path: target.path,
      op: deleted > 0 ? 'delete' : 'none',
      revision: last,
      version: null,
      deleted,
      document: null,
    });
  }
  return { outcomes, changes, count };
}

/** Live paths strictly below `path/`: stored ones not deleted in this commit, plus ones it created. */
function descendants(path: string, state: CommitPlanState, overlay: ReadonlyMap<string, DocRecord | null>): string[] {
  const prefix = `${path}/`;
  const paths = new Set(state.subtree(path));
  for (const [candidate, doc] of overlay) {
    if (!candidate.startsWith(prefix)) continue;
    if (doc) paths.add(candidate);
    else paths.delete(candidate);
  }
  return [...paths].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Maps the plan's relative revisions to real ones (`revisions[i]` for relative revision i+1)
 * and builds the events. The plan is not changed.
 */
export function materialize(
  plan: CommitPlan,
  revisions: readonly number[],
  change: ChangeContext,
  now: Date,
): { outcomes: DocWriteOutcome[]; changes: PlannedChange[]; events: NewEvent[] } {
  const real = (relative: number) => revisions[relative - 1] as number;
  const changes = plan.changes.map(({ record, history }) => ({
    record: record ? { ...record, revision: real(record.revision) } : null,
    history: { ...history, revision: real(history.revision) },
  }));
  const events = changes.map(({ history }) => ({
    id: change.ids.next('evt'),
    type: DOC_EVENT_TYPES[history.op],
    subject: history.path,
    data: {
      path: history.path,
      collection: history.collection,
      id: history.id,
      version: history.version,
      revision: history.revision,
    },
    actor: change.actor,
    at: new Date(now),
  }));
  const outcomes = plan.outcomes.map((outcome) => ({
    ...outcome,
    revision: outcome.revision === null ? null : real(outcome.revision),
    document: outcome.document ? { ...outcome.document, revision: real(outcome.document.revision) } : null,
  }));
  return { outcomes, changes, events };
}
