import { describe, expect, it } from 'vitest';
import { SYSTEM_PRINCIPAL } from '../auth/types.js';
import { type DocContractContext, docPrincipal, expectDocError } from './doc-contract-context.js';

const S = SYSTEM_PRINCIPAL;

/** Create, replace, patches, delete, recursive delete, preconditions, commit, history, events. */
export function describeDocWrites(ctx: DocContractContext): void {
  describe('create, replace and read', () => {
    it('creates at version 1 with a new revision and reads it back', async () => {
      const now = ctx.clock.now().toISOString();
      const doc = await ctx.core.docs.set(docPrincipal(['*'], 'tok_writer'), 'w1/acme', { name: 'Acme', n: 1 });
      expect(doc).toEqual({
        path: 'w1/acme',
        id: 'acme',
        collection: 'w1',
        data: { name: 'Acme', n: 1 },
        version: 1,
        revision: doc.revision,
        createdAt: now,
        updatedAt: now,
        createdBy: 'tok_writer',
        updatedBy: 'tok_writer',
      });
      expect(doc.revision).toBeGreaterThan(0);
      expect(await ctx.core.docs.get(S, 'w1/acme')).toEqual(doc);
    });

    it('replaces: version +1, a larger revision, createdAt and createdBy kept', async () => {
      const first = await ctx.core.docs.set(S, 'w2/a', { v: 1 });
      ctx.clock.advance(1000);
      const second = await ctx.core.docs.set(docPrincipal(['*'], 'tok_other'), 'w2/a', { v: 2 });
      expect(second).toMatchObject({ version: 2, data: { v: 2 }, createdAt: first.createdAt, createdBy: 'system' });
      expect(second.updatedBy).toBe('tok_other');
      expect(second.revision).toBeGreaterThan(first.revision);
      expect(second.updatedAt).toBe(ctx.clock.now().toISOString());
    });

    it('creates with a server id in a collection (sub-collections too)', async () => {
      const one = await ctx.core.docs.create(S, 'w3', { a: 1 });
      const two = await ctx.core.docs.create(S, 'w3/p/items', { a: 2 });
      expect(one.path).toMatch(/^w3\/[0-9A-Z]{22}$/);
      expect(two.collection).toBe('items');
      expect(two.path.startsWith('w3/p/items/')).toBe(true);
      expect((await ctx.core.docs.get(S, two.path)).data).toEqual({ a: 2 });
    });

    it('answers NOT_FOUND for a missing document', async () => {
      await expectDocError(ctx.core.docs.get(S, 'w4/missing'), 'NOT_FOUND');
    });

    it('round-trips JSON exactly (strings that look like numbers, unicode, nesting, empty object)', async () => {
      const data = { s: '123', u: 'ключ 😀', deep: { a: [1, { b: null }], e: {} }, f: 0.1, big: 1e300, neg: -0.5 };
      await ctx.core.docs.set(S, 'w4/json', data);
      expect((await ctx.core.docs.get(S, 'w4/json')).data).toEqual(data);
    });
  });

  describe('preconditions', () => {
    it('writes only over the expected revision; a mismatch carries the current revision', async () => {
      const doc = await ctx.core.docs.set(S, 'p1/a', { v: 1 });
      const error = await expectDocError(
        ctx.core.docs.set(S, 'p1/a', { v: 2 }, { expect: { revision: doc.revision + 1000 } }),
        'PRECONDITION_FAILED',
      );
      expect(error.details).toMatchObject({ currentRevision: doc.revision });
      expect(await ctx.core.docs.get(S, 'p1/a')).toEqual(doc);
      const next = await ctx.core.docs.set(S, 'p1/a', { v: 2 }, { expect: { revision: doc.revision, version: 1 } });
      expect(next.version).toBe(2);
    });

    it('exists: false creates only; exists: true replaces only', async () => {
      await ctx.core.docs.set(S, 'p2/a', { v: 1 }, { expect: { exists: false } });
      await expectDocError(
        ctx.core.docs.set(S, 'p2/a', { v: 2 }, { expect: { exists: false } }),
        'PRECONDITION_FAILED',
      );
      await expectDocError(ctx.core.docs.set(S, 'p2/b', { v: 1 }, { expect: { exists: true } }), 'PRECONDITION_FAILED');
      await expectDocError(ctx.core.docs.set(S, 'p2/c', { v: 1 }, { expect: { revision: 1 } }), 'PRECONDITION_FAILED');
      await expectDocError(ctx.core.docs.get(S, 'p2/b'), 'NOT_FOUND');
      await expectDocError(ctx.core.docs.get(S, 'p2/c'), 'NOT_FOUND');
      expect((await ctx.core.docs.get(S, 'p2/a')).data).toEqual({ v: 1 });
    });

    it('concurrent writers: one If-Match winner per document, the others see its revision; the rest are written', async () => {
      // Issued together, so a store that groups concurrent commits (PostgreSQL) puts them in one
      // transaction: each must still succeed or fail on its own, in issue order.
      const doc = await ctx.core.docs.set(S, 'p4/a', { v: 0 });
      const settled = await Promise.allSettled([
        ctx.core.docs.set(S, 'p4/a', { v: 1 }, { expect: { revision: doc.revision } }),
        ctx.core.docs.set(S, 'p4/a', { v: 2 }, { expect: { revision: doc.revision } }),
        ctx.core.docs.set(S, 'p4/b', { v: 3 }),
        ctx.core.docs.patch(S, 'p4/a', { w: true }),
        ctx.core.docs.set(S, 'p4/c', { v: 4 }, { expect: { exists: true } }),
      ]);
      const [first, second, other, patched, missing] = settled;
      expect(first.status).toBe('fulfilled');
      const winner = first.status === 'fulfilled' ? first.value : doc;
      expect(winner.version).toBe(2);
      expect(second.status).toBe('rejected');
      expect(second.status === 'rejected' && second.reason).toMatchObject({
        code: 'PRECONDITION_FAILED',
        details: { currentRevision: winner.revision },
      });
      expect(other.status === 'fulfilled' && other.value.revision).toBeGreaterThan(winner.revision);
      expect(patched.status === 'fulfilled' && patched.value).toMatchObject({ version: 3, data: { v: 1, w: true } });
      expect(missing.status === 'rejected' && missing.reason).toMatchObject({ code: 'PRECONDITION_FAILED' });
      expect((await ctx.core.docs.get(S, 'p4/a')).data).toEqual({ v: 1, w: true });
      await expectDocError(ctx.core.docs.get(S, 'p4/c'), 'NOT_FOUND');
    });

    it('refuses conflicting preconditions before touching anything', async () => {
      const error = await expectDocError(
        ctx.core.docs.set(S, 'p3/a', { v: 1 }, { expect: { exists: false, revision: 3 } }),
        'VALIDATION_FAILED',
      );
      expect(error.message).toContain('conflicting');
      await expectDocError(ctx.core.docs.get(S, 'p3/a'), 'NOT_FOUND');
    });
  });

  describe('patches', () => {
    it('merge patch (RFC 7396): merges, null removes, arrays replace', async () => {
      const doc = await ctx.core.docs.set(S, 'm1/a', { a: 1, b: { c: 2, d: 3 }, list: [1, 2] });
      const patched = await ctx.core.docs.patch(S, 'm1/a', { b: { c: null, e: 4 }, list: [9], z: 'new' });
      expect(patched.data).toEqual({ a: 1, b: { d: 3, e: 4 }, list: [9], z: 'new' });
      expect(patched.version).toBe(doc.version + 1);
    });

    it('JSON patch (RFC 6902): add, remove, replace, move, copy; a failing test writes nothing', async () => {
      await ctx.core.docs.set(S, 'm2/a', { status: 'draft', list: [1, 2], n: 1 });
      const patched = await ctx.core.docs.patch(S, 'm2/a', [
        { op: 'test', path: '/status', value: 'draft' },
        { op: 'replace', path: '/status', value: 'final' },
        { op: 'add', path: '/list/-', value: 3 },
        { op: 'add', path: '/list/0', value: 0 },
        { op: 'copy', from: '/n', path: '/m' },
        { op: 'move', from: '/n', path: '/k' },
        { op: 'remove', path: '/list/1' },
      ]);
      expect(patched.data).toEqual({ status: 'final', list: [0, 2, 3], m: 1, k: 1 });
      const error = await expectDocError(
        ctx.core.docs.patch(S, 'm2/a', [
          { op: 'replace', path: '/status', value: 'x' },
          { op: 'test', path: '/status', value: 'draft' },
        ]),
        'PRECONDITION_FAILED',
      );
      expect(error.details).toMatchObject({ index: 1 });
      await expectDocError(ctx.core.docs.patch(S, 'm2/a', [{ op: 'remove', path: '/nope' }]), 'CONFLICT');
      expect(await ctx.core.docs.get(S, 'm2/a')).toMatchObject({ data: patched.data, version: patched.version });
    });

    it('patching a missing document is NOT_FOUND; with If-Match it is PRECONDITION_FAILED', async () => {
      await expectDocError(ctx.core.docs.patch(S, 'm3/none', { a: 1 }), 'NOT_FOUND');
      await expectDocError(
        ctx.core.docs.patch(S, 'm3/none', { a: 1 }, { expect: { revision: 5 } }),
        'PRECONDITION_FAILED',
      );
      await expectDocError(ctx.core.docs.get(S, 'm3/none'), 'NOT_FOUND');
    });
  });

  describe('delete', () => {
    it('deletes; re-creating starts at version 1 with a revision never used before', async () => {
      const first = await ctx.core.docs.set(S, 'd1/a', { v: 1 });
      const removed = await ctx.core.docs.delete(S, 'd1/a', { expect: { revision: first.revision } });
      expect(removed.revision).toBeGreaterThan(first.revision);
      await expectDocError(ctx.core.docs.get(S, 'd1/a'), 'NOT_FOUND');
      await expectDocError(ctx.core.docs.delete(S, 'd1/a'), 'NOT_FOUND');
      const again = await ctx.core.docs.set(S, 'd1/a', { v: 2 });
      expect(again.version).toBe(1);
      expect(again.revision).toBeGreaterThan(removed.revision);
    });

    it('recursive delete removes the subtree (even below a missing document) and nothing beside it', async () => {
      for (const path of ['d2/p', 'd2/p/c/1', 'd2/p/c/2/x/y', 'd2/q', 'd2/p-other/c/1', 'd3/gone/c/1']) {
        await ctx.core.docs.set(S, path, { path });
      }
      expect(await ctx.core.docs.delete(S, 'd2/p', { recursive: true })).toMatchObject({ deleted: 3 });
      for (const path of ['d2/p', 'd2/p/c/1', 'd2/p/c/2/x/y'])
        await expectDocError(ctx.core.docs.get(S, path), 'NOT_FOUND');
      expect((await ctx.core.docs.get(S, 'd2/q')).data).toEqual({ path: 'd2/q' });
      expect((await ctx.core.docs.get(S, 'd2/p-other/c/1')).version).toBe(1);
      expect(await ctx.core.docs.delete(S, 'd3/gone', { recursive: true })).toMatchObject({ deleted: 1 });
    });

    it('recursive delete with a document the caller may not write below deletes nothing', async () => {
      await ctx.core.docs.set(S, 'd4/p', { a: 1 });
      await ctx.core.docs.set(S, 'd4/p/secret/1', { a: 2 });
      const limited = docPrincipal(['docs:write:d4/p', 'docs:read']);
      await expectDocError(ctx.core.docs.delete(limited, 'd4/p', { recursive: true }), 'FORBIDDEN');
      expect((await ctx.core.docs.get(S, 'd4/p/secret/1')).data).toEqual({ a: 2 });
      expect((await ctx.core.docs.get(S, 'd4/p')).data).toEqual({ a: 1 });
    });
  });

  describe('commit', () => {
    it('applies every write atomically, each with its own increasing revision', async () => {
      await ctx.core.docs.set(S, 'c1/existing', { n: 1 });
      await ctx.core.docs.set(S, 'c1/old', { n: 1 });
      const result = await ctx.core.docs.commit(S, [
        { op: 'set', path: 'c1/new', data: { n: 1 }, expect: { exists: false } },
        { op: 'patch', path: 'c1/existing', data: { m: 2 } },
        { op: 'delete', path: 'c1/old' },
        { op: 'patch', path: 'c1/new', data: [{ op: 'add', path: '/n', value: 5 }] },
      ]);
      const revisions = result.results.map((r) => r.revision);
      expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
      expect(new Set(revisions).size).toBe(4);
      expect(result.revision).toBe(revisions[3]);
      expect(await ctx.core.docs.get(S, 'c1/new')).toMatchObject({ data: { n: 5 }, version: 2 });
      expect((await ctx.core.docs.get(S, 'c1/existing')).data).toEqual({ n: 1, m: 2 });
      await expectDocError(ctx.core.docs.get(S, 'c1/old'), 'NOT_FOUND');
    });

    it('writes nothing when one write fails, and names its index', async () => {
      const before = await ctx.core.docs.set(S, 'c2/a', { n: 1 });
      const error = await expectDocError(
        ctx.core.docs.commit(S, [
          { op: 'set', path: 'c2/a', data: { n: 2 } },
          { op: 'set', path: 'c2/b', data: { n: 1 } },
          { op: 'set', path: 'c2/a', data: { n: 3 }, expect: { revision: before.revision } },
        ]),
        'CONFLICT',
      );
      expect(error.details).toMatchObject({ index: 2, reason: 'PRECONDITION_FAILED' });
      expect(await ctx.core.docs.get(S, 'c2/a')).toEqual(before);
      await expectDocError(ctx.core.docs.get(S, 'c2/b'), 'NOT_FOUND');
    });

    it('appends one doc.* event per change in the same unit of work, stamped with the actor', async () => {
      const actor = docPrincipal(['*'], 'tok_events');
      const result = await ctx.core.docs.commit(actor, [
        { op: 'set', path: 'c3/a', data: {} },
        { op: 'set', path: 'c3/a', data: { x: 1 } },
        { op: 'delete', path: 'c3/a' },
      ]);
      await ctx.core.storage.events.sequencePending({ wait: true });
      const events = (await ctx.core.storage.events.readAfter(0, 100_000)).filter((e) => e.subject === 'c3/a');
      expect(events.map((e) => e.type)).toEqual(['doc.created', 'doc.updated', 'doc.deleted']);
      expect(events.map((e) => e.actor)).toEqual(['tok_events', 'tok_events', 'tok_events']);
      expect(events[2]?.data).toEqual({
        path: 'c3/a',
        collection: 'c3',
        id: 'a',
        version: 3,
        revision: result.results[2]?.revision,
      });
      await expectDocError(ctx.core.docs.commit(actor, [{ op: 'patch', path: 'c3/none', data: {} }]), 'CONFLICT');
      await ctx.core.storage.events.sequencePending({ wait: true });
      const after = (await ctx.core.storage.events.readAfter(0, 100_000)).filter((e) => e.subject === 'c3/none');
      expect(after).toEqual([]);
    });
  });

  describe('history', () => {
    it('records who, when, revision and snapshot; lists newest first; reads one version', async () => {
      const actor = docPrincipal(['*'], 'tok_history');
      const one = await ctx.core.docs.set(actor, 'h1/a', { v: 1 });
      ctx.clock.advance(500);
      const two = await ctx.core.docs.patch(S, 'h1/a', { v: 2 });
      const page = await ctx.core.docs.history(S, 'h1/a');
      expect(page.items).toEqual([
        {
          path: 'h1/a',
          version: 2,
          revision: two.revision,
          op: 'update',
          data: { v: 2 },
          at: two.updatedAt,
          actor: 'system',
        },
        {
          path: 'h1/a',
          version: 1,
          revision: one.revision,
          op: 'create',
          data: { v: 1 },
          at: one.createdAt,
          actor: 'tok_history',
        },
      ]);
      expect((await ctx.core.docs.historyVersion(S, 'h1/a', 1)).data).toEqual({ v: 1 });
      await expectDocError(ctx.core.docs.historyVersion(S, 'h1/a', 3), 'NOT_FOUND');
      const first = await ctx.core.docs.history(S, 'h1/a', { limit: 1 });
      expect(first.items.map((e) => e.version)).toEqual([2]);
      const rest = await ctx.core.docs.history(S, 'h1/a', { limit: 1, cursor: first.nextCursor ?? '' });
      expect(rest.items.map((e) => e.version)).toEqual([1]);
    });

    it('keeps at most maxVersions entries per document (5 here) and records deletions', async () => {
      for (let v = 1; v <= 7; v++) await ctx.core.docs.set(S, 'h2/a', { v });
      await ctx.core.docs.delete(S, 'h2/a');
      const items = (await ctx.core.docs.history(S, 'h2/a')).items;
      expect(items.map((e) => [e.op, e.version])).toEqual([
        ['delete', 8],
        ['update', 7],
        ['update', 6],
        ['update', 5],
        ['update', 4],
      ]);
      expect(items[0]?.data).toBeNull();
    });

    it('keeps the newest maxVersions entries of a path across re-creation, repeated and concurrent writes', async () => {
      const entries = async () => (await ctx.core.docs.history(S, 'h4/a')).items.map((e) => `${e.op}${e.version}`);
      for (let v = 1; v <= 3; v++) await ctx.core.docs.set(S, 'h4/a', { v });
      await ctx.core.docs.delete(S, 'h4/a');
      await ctx.core.docs.set(S, 'h4/a', { v: 10 });
      expect(await entries()).toEqual(['create1', 'delete4', 'update3', 'update2', 'create1']);
      // Two writes of the path in one commit: the older incarnation's oldest two go.
      await ctx.core.docs.commit(S, [
        { op: 'patch', path: 'h4/a', data: { w: 1 } },
        { op: 'patch', path: 'h4/a', data: { w: 2 } },
      ]);
      expect(await entries()).toEqual(['update3', 'update2', 'create1', 'delete4', 'update3']);
      // Concurrent writers (one transaction on PostgreSQL, see group commit).
      await Promise.all([1, 2, 3].map((w) => ctx.core.docs.patch(S, 'h4/a', { [`c${w}`]: w })));
      expect(await entries()).toEqual(['update6', 'update5', 'update4', 'update3', 'update2']);
      const first = await ctx.core.docs.history(S, 'h4/a', { limit: 2 });
      const rest = await ctx.core.docs.history(S, 'h4/a', { limit: 2, cursor: first.nextCursor ?? '' });
      expect(rest.items.map((e) => e.version)).toEqual([4, 3]);
      expect((await ctx.core.docs.historyVersion(S, 'h4/a', 2)).data).toEqual({ v: 10, w: 1 });
      await expectDocError(ctx.core.docs.historyVersion(S, 'h4/a', 1), 'NOT_FOUND');
    });

    it('prunes entries older than maxAgeDays, keeping the newest entry of a live document', async () => {
      await ctx.core.docs.set(S, 'h3/live', { v: 1 });
      await ctx.core.docs.set(S, 'h3/live', { v: 2 });
      await ctx.core.docs.set(S, 'h3/dead', { v: 1 });
      await ctx.core.docs.delete(S, 'h3/dead');
      ctx.clock.advance(31 * 24 * 3600 * 1000);
      expect(await ctx.core.docs.pruneHistory()).toBeGreaterThanOrEqual(3);
      expect((await ctx.core.docs.history(S, 'h3/live')).items.map((e) => e.version)).toEqual([2]);
      expect((await ctx.core.docs.history(S, 'h3/dead')).items).toEqual([]);
    });
  });
}
