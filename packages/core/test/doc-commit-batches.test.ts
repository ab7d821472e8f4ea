import { describe, expect, it } from 'vitest';
import type { DocCommitOptions, DocStoreWrite, DocWriteOutcome } from '../src/storage/ports.js';
import { DocCommitBatches } from '../src/storage/postgres/doc-commit-batches.js';
import type { BatchedCommit, BatchedCommitResult } from '../src/storage/postgres/doc-store-batch.js';

/** A write of `path` (only what the queue looks at). */
const write = (path: string, recursive = false) =>
  ({
    target: { path },
    ...(recursive ? { recursive: { maxDocuments: 10, check: () => {} } } : {}),
  }) as unknown as DocStoreWrite;
const options = (maxHistoryVersions: number | null = 100) => ({ maxHistoryVersions }) as unknown as DocCommitOptions;
const outcome = (path: string) => [{ path }] as unknown as DocWriteOutcome[];

/** Batches whose transactions the test settles by hand; records what ran how. */
function harness(answer: (commits: readonly BatchedCommit[]) => BatchedCommitResult[] | Error) {
  const batches: string[][] = [];
  const alone: string[] = [];
  const pending: (() => void)[] = [];
  const queue = new DocCommitBatches({
    commitBatch: (commits) => {
      batches.push(commits.map((commit) => commit.writes[0]?.target.path ?? ''));
      return new Promise((resolve, reject) => {
        pending.push(() => {
          const result = answer(commits);
          if (result instanceof Error) reject(result);
          else resolve(result);
        });
      });
    },
    commitAlone: async (writes) => {
      alone.push(writes[0]?.target.path ?? '');
      return outcome(`alone:${writes[0]?.target.path}`);
    },
  });
  /** Lets the batch in flight answer, then lets the queue go on. */
  const settleNext = async () => {
    for (let i = 0; i < 20 && pending.length === 0; i++) await null;
    pending.shift()?.();
    for (let i = 0; i < 20; i++) await null;
  };
  return { queue, batches, alone, settleNext };
}

const written = (commits: readonly BatchedCommit[]): BatchedCommitResult[] =>
  commits.map((commit) => ({ kind: 'written', outcomes: outcome(commit.writes[0]?.target.path ?? '') }));

describe('DocCommitBatches (group commit of document writes)', () => {
  it('sends the commits of one turn together, and those arriving meanwhile in the next batch', async () => {
    const h = harness(written);
    const first = [h.queue.commit([write('a')], options()), h.queue.commit([write('b')], options())];
    await null;
    await null;
    const later = [h.queue.commit([write('c')], options()), h.queue.commit([write('d')], options())];
    for (let i = 0; i < 20; i++) await null;
    // One batch in flight at a time: c and d wait for it.
    expect(h.batches).toEqual([['a', 'b']]);
    await h.settleNext();
    await h.settleNext();
    expect(h.batches).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(await Promise.all([...first, ...later])).toEqual([outcome('a'), outcome('b'), outcome('c'), outcome('d')]);
  });

  it('starts the next batch before answering the callers of the one that ended, when commits wait', async () => {
    const h = harness(written);
    const order: string[] = [];
    const first = h.queue.commit([write('a')], options()).then(() => order.push('a answered'));
    for (let i = 0; i < 20; i++) await null;
    const second = h.queue.commit([write('b')], options()).then(() => order.push('b answered'));
    await h.settleNext();
    order.push(`batches sent: ${h.batches.length}`);
    await first;
    // The last batch's callers are answered at once: nothing waits behind them.
    await h.settleNext();
    await second;
    expect(order).toEqual(['batches sent: 2', 'a answered', 'b answered']);
  });

  it('answers each commit its own result: a failure is only its own', async () => {
    const refused = new Error('PRECONDITION_FAILED');
    const h = harness((commits) =>
      commits.map((commit) =>
        commit.writes[0]?.target.path === 'bad'
          ? { kind: 'failed', error: refused }
          : { kind: 'written', outcomes: outcome(commit.writes[0]?.target.path ?? '') },
      ),
    );
    const results = Promise.allSettled([
      h.queue.commit([write('ok1')], options()),
      h.queue.commit([write('bad')], options()),
      h.queue.commit([write('ok2')], options()),
    ]);
    await h.settleNext();
    expect(await results).toEqual([
      { status: 'fulfilled', value: outcome('ok1') },
      { status: 'rejected', reason: refused },
      { status: 'fulfilled', value: outcome('ok2') },
    ]);
  });

  it('runs alone a recursive delete, and a commit whose path lock another transaction held', async () => {
    const h = harness((commits) =>
      commits.map((commit) =>
        commit.writes[0]?.target.path === 'held'
          ? { kind: 'alone' }
          : { kind: 'written', outcomes: outcome(commit.writes[0]?.target.path ?? '') },
      ),
    );
    const recursive = h.queue.commit([write('tree', true)], options());
    const held = h.queue.commit([write('held')], options());
    const free = h.queue.commit([write('free')], options());
    await h.settleNext();
    expect(h.batches).toEqual([['held', 'free']]);
    expect(await recursive).toEqual(outcome('alone:tree'));
    expect(await held).toEqual(outcome('alone:held'));
    expect(await free).toEqual(outcome('free'));
    expect(h.alone).toEqual(['tree', 'held']);
  });

  it('runs each commit alone after a batch the server rolled back, but never again after a lost connection', async () => {
    const serverError = Object.assign(new Error('deadlock detected'), { code: '40P01' });
    const rolledBack = harness(() => serverError);
    const both = [rolledBack.queue.commit([write('x')], options()), rolledBack.queue.commit([write('y')], options())];
    await rolledBack.settleNext();
    expect(await Promise.all(both)).toEqual([outcome('alone:x'), outcome('alone:y')]);

    const lost = Object.assign(new Error('write CONNECTION_CLOSED'), { code: 'CONNECTION_CLOSED' });
    const unknown = harness(() => lost);
    const maybeCommitted = Promise.allSettled([unknown.queue.commit([write('z')], options())]);
    await unknown.settleNext();
    expect(await maybeCommitted).toEqual([{ status: 'rejected', reason: lost }]);
    expect(unknown.alone).toEqual([]);
  });

  it('keeps commits with another history retention for the next batch', async () => {
    const h = harness(written);
    const all = [
      h.queue.commit([write('a')], options(100)),
      h.queue.commit([write('b')], options(5)),
      h.queue.commit([write('c')], options(5)),
    ];
    await h.settleNext();
    await h.settleNext();
    expect(h.batches).toEqual([['a'], ['b', 'c']]);
    await Promise.all(all);
  });
});
