import { beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_PRINCIPAL } from '../auth/types.js';
import type { DocFilter, DocOrderTerm, JsonObject } from '../docs/types.js';
import type { DocContractContext } from './doc-contract-context.js';

const S = SYSTEM_PRINCIPAL;
const HOSTILE = "a'); DROP TABLE documents;--";
const COLLECTION = 'q/set/items';

/** The dataset every query case runs on: ids a…h under q/set/items. */
const DATASET: Record<string, JsonObject> = {
  a: { n: 1, s: 'apple', tags: ['x', 'y'], b: true, nested: { k: 1 }, mixed: 1 },
  b: { n: 2, s: 'banana', tags: ['y'], b: false, nested: { k: 2 }, mixed: '1' },
  c: { n: 10, s: 'cherry', tags: [], nested: { k: null }, mixed: null, arr: [1, 2, 3] },
  d: { n: -5.5, s: 'Apple', b: true, mixed: [1], obj: { a: 1, b: 2 } },
  e: { s: 'äpfel', n: '3', tags: ['x'], mixed: {} },
  f: { n: 2.0, s: '😀 smile', nested: { k: 1, deep: { x: 'y' } }, [HOSTILE]: 'evil', $: 'dollar', ключ: 'значение' },
  g: {},
  h: { n: null, s: '', tags: ['x', 'x'], arr: [{ k: 1 }] },
};

/** [filter, expected ids in path order]. Every expectation is written out, never computed. */
const FILTER_CASES: [DocFilter, string[]][] = [
  [{}, ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']],
  [{ n: 2 }, ['b', 'f']],
  [{ n: { $eq: 2 } }, ['b', 'f']],
  [{ n: { $gt: 1 } }, ['b', 'c', 'f']],
  [{ n: { $gte: 2, $lt: 10 } }, ['b', 'f']],
  [{ n: { $lte: 1 } }, ['a', 'd']],
  [{ n: { $lt: 0 } }, ['d']],
  [{ n: { $gt: '1' } }, ['e']],
  [{ s: { $gt: 'b' } }, ['b', 'c', 'e', 'f']],
  [{ s: { $lt: 'a' } }, ['d', 'h']],
  [{ s: { $gte: '😀' } }, ['f']],
  [{ n: { $ne: 2 } }, ['a', 'c', 'd', 'e', 'g', 'h']],
  [{ n: { $in: [1, '3', null] } }, ['a', 'e', 'h']],
  [{ n: { $nin: [1, 2] } }, ['c', 'd', 'e', 'g', 'h']],
  [{ n: { $in: [] } }, []],
  [{ n: { $exists: false } }, ['g']],
  [{ n: { $exists: true } }, ['a', 'b', 'c', 'd', 'e', 'f', 'h']],
  [{ n: null }, ['h']],
  [{ tags: { $contains: 'x' } }, ['a', 'e', 'h']],
  [{ s: { $contains: 'an' } }, ['b']],
  [{ arr: { $contains: { k: 1 } } }, ['h']],
  [{ s: { $startsWith: 'A' } }, ['d']],
  [{ s: { $startsWith: '' } }, ['a', 'b', 'c', 'd', 'e', 'f', 'h']],
  [{ 'nested.k': 1 }, ['a', 'f']],
  [{ 'nested.k': null }, ['c']],
  [{ 'nested.deep.x': 'y' }, ['f']],
  [{ 'data.nested.k': 2 }, ['b']],
  [{ 'arr.0': 1 }, ['c']],
  [{ 'arr.-1': 3 }, ['c']],
  [{ 'arr.0.k': 1 }, ['h']],
  [{ 'arr.1': { $gte: 2 } }, ['c']],
  [{ tags: ['y'] }, ['b']],
  [{ tags: [] }, ['c']],
  [{ obj: { b: 2, a: 1 } }, ['d']],
  [{ obj: { $eq: { a: 1 } } }, []],
  [{ mixed: 1 }, ['a']],
  [{ mixed: '1' }, ['b']],
  [{ mixed: { $gt: 0 } }, ['a']],
  [{ mixed: {} }, ['e']],
  [{ $or: [{ n: 1 }, { s: 'cherry' }] }, ['a', 'c']],
  [{ $and: [{ b: true }, { n: { $gt: 0 } }] }, ['a']],
  [{ $not: { b: true } }, ['b', 'c', 'e', 'f', 'g', 'h']],
  [{ b: { $not: { $eq: true } } }, ['b', 'c', 'e', 'f', 'g', 'h']],
  [{ b: { $ne: true } }, ['b', 'c', 'e', 'f', 'g', 'h']],
  [{ $or: [{ n: { $exists: false } }, { n: null }] }, ['g', 'h']],
  [{ $not: { $or: [{ s: { $lt: 'b' } }, { n: { $gte: 2 } }] } }, ['e', 'g']],
  [{ [HOSTILE]: 'evil' }, ['f']],
  [{ s: HOSTILE }, []],
  [{ 'data.$': 'dollar' }, ['f']],
  [{ ключ: 'значение' }, ['f']],
  [{ ['x'.repeat(1000)]: 1 }, []],
  [{ s: '😀 smile' }, ['f']],
  [{ id: 'c' }, ['c']],
  [{ id: { $in: ['a', 'z', 'h'] } }, ['a', 'h']],
  [{ id: { $gt: 'f' } }, ['g', 'h']],
  [{ id: { $ne: 'a' }, n: { $exists: false } }, ['g']],
  [{ path: { $startsWith: 'q/set/items/a' } }, ['a']],
  [{ path: { $contains: 'items/b' } }, ['b']],
];

/** [orderBy, expected ids in order]. */
const ORDER_CASES: [DocOrderTerm[], string[]][] = [
  [[{ field: 'n', direction: 'asc' }], ['g', 'h', 'd', 'a', 'b', 'f', 'c', 'e']],
  [[{ field: 'n', direction: 'desc' }], ['e', 'c', 'f', 'b', 'a', 'd', 'h', 'g']],
  [[{ field: 's', direction: 'asc' }], ['g', 'h', 'd', 'a', 'b', 'c', 'e', 'f']],
  [
    [
      { field: 'b', direction: 'asc' },
      { field: 'n', direction: 'desc' },
    ],
    ['e', 'c', 'f', 'h', 'g', 'b', 'a', 'd'],
  ],
  [[{ field: 'mixed', direction: 'asc' }], ['f', 'g', 'h', 'c', 'a', 'b', 'd', 'e']],
  [[{ field: 'id', direction: 'desc' }], ['h', 'g', 'f', 'e', 'd', 'c', 'b', 'a']],
  [
    [
      { field: 'createdAt', direction: 'desc' },
      { field: 'path', direction: 'asc' },
    ],
    ['h', 'g', 'f', 'e', 'd', 'c', 'b', 'a'],
  ],
];

/** One filter AST, every backend: filters, orders, keyset pages, projection, collection groups. */
export function describeDocQueries(ctx: DocContractContext): void {
  describe('queries', () => {
    beforeAll(async () => {
      for (const [id, data] of Object.entries(DATASET)) {
        await ctx.core.docs.set(S, `${COLLECTION}/${id}`, data);
        ctx.clock.advance(1000);
      }
      // A sub-collection and a sibling collection: never part of the listing.
      await ctx.core.docs.set(S, `${COLLECTION}/a/sub/x`, { n: 2 });
      await ctx.core.docs.set(S, 'q/set/other/z', { n: 2 });
    });

    const ids = (items: { id: string }[]) => items.map((item) => item.id);

    it.each(FILTER_CASES.map(([where, expected]) => [JSON.stringify(where).slice(0, 80), where, expected] as const))(
      'filter %s',
      async (_name, where, expected) => {
        const page = await ctx.core.docs.list(S, COLLECTION, { where, limit: 100 });
        expect(ids(page.items)).toEqual(expected);
        expect(page.nextCursor).toBeNull();
      },
    );

    it.each(ORDER_CASES.map(([orderBy, expected]) => [JSON.stringify(orderBy), orderBy, expected] as const))(
      'order %s, also page by page',
      async (_name, orderBy, expected) => {
        expect(ids((await ctx.core.docs.list(S, COLLECTION, { orderBy })).items)).toEqual(expected);
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await ctx.core.docs.list(S, COLLECTION, { orderBy, limit: 3, ...(cursor ? { cursor } : {}) });
          seen.push(...ids(page.items));
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        expect(seen).toEqual(expected);
      },
    );

    it('filters by time (updatedAt) and orders by it', async () => {
      const c = await ctx.core.docs.get(S, `${COLLECTION}/c`);
      const page = await ctx.core.docs.list(S, COLLECTION, {
        where: { updatedAt: { $lte: c.updatedAt } },
        orderBy: [{ field: 'updatedAt', direction: 'desc' }],
      });
      expect(ids(page.items)).toEqual(['c', 'b', 'a']);
      const exact = await ctx.core.docs.list(S, COLLECTION, { where: { createdAt: c.createdAt } });
      expect(ids(exact.items)).toEqual(['c']);
    });

    it('projects selected fields and keeps the metadata', async () => {
      const page = await ctx.core.docs.list(S, COLLECTION, {
        where: { id: 'f' },
        select: ['nested.deep', 's', 'missing', HOSTILE],
      });
      expect(page.items[0]).toMatchObject({ id: 'f', path: `${COLLECTION}/f`, version: 1 });
      expect(page.items[0]?.data).toEqual({ nested: { deep: { x: 'y' } }, s: '😀 smile', [HOSTILE]: 'evil' });
    });

    it('collection-group queries: every collection with the id, optionally below a parent', async () => {
      for (const p of ['acme', 'beta']) {
        for (const r of ['r1', 'r2']) {
          for (const c of ['c1', 'c2']) {
            await ctx.core.docs.set(S, `qg/${p}/releases/${r}/checks/${c}`, {
              status: c === 'c1' ? 'failed' : 'ok',
              p,
            });
          }
        }
      }
      await ctx.core.docs.set(S, 'qg/acme/checks/top', { status: 'failed' });
      const all = await ctx.core.docs.query(S, {
        from: { collection: 'checks', parent: 'qg', allDescendants: true },
        limit: 100,
      });
      expect(all.items).toHaveLength(9);
      const acme = await ctx.core.docs.query(S, {
        from: { collection: 'checks', parent: 'qg/acme', allDescendants: true },
        where: { status: 'failed' },
        orderBy: [{ field: 'path', direction: 'desc' }],
      });
      expect(acme.items.map((d) => d.path)).toEqual([
        'qg/acme/releases/r2/checks/c1',
        'qg/acme/releases/r1/checks/c1',
        'qg/acme/checks/top',
      ]);
      const underCollection = await ctx.core.docs.query(S, {
        from: { collection: 'checks', parent: 'qg/beta/releases', allDescendants: true },
      });
      expect(underCollection.items).toHaveLength(4);
      const one = await ctx.core.docs.query(S, { from: { collection: 'checks', parent: 'qg/acme/releases/r1' } });
      expect(one.items.map((d) => d.id)).toEqual(['c1', 'c2']);
    });

    it('a cursor works only with its own query', async () => {
      const first = await ctx.core.docs.list(S, COLLECTION, { where: { n: { $exists: true } }, limit: 2 });
      expect(first.nextCursor).not.toBeNull();
      const error = await ctx.core.docs
        .list(S, COLLECTION, { where: { n: { $exists: false } }, limit: 2, cursor: first.nextCursor ?? '' })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'VALIDATION_FAILED' });
      const other = await ctx.core.docs
        .list(S, COLLECTION, {
          where: { n: { $exists: true } },
          orderBy: [{ field: 'n', direction: 'asc' }],
          cursor: first.nextCursor ?? '',
        })
        .catch((e: unknown) => e);
      expect(other).toMatchObject({ code: 'VALIDATION_FAILED' });
    });

    it('lists collections at the root and below a document, including ones under missing documents', async () => {
      await ctx.core.docs.set(S, 'qc/p/alpha/1', {});
      await ctx.core.docs.set(S, 'qc/p/beta/1/deep/1', {});
      await ctx.core.docs.set(S, 'qc/p/alpha-2/1', {});
      const below = await ctx.core.docs.collections(S, 'qc/p');
      // Path order: '-' sorts before '/', so alpha-2 comes before alpha.
      expect(below.items).toEqual([
        { id: 'alpha-2', path: 'qc/p/alpha-2' },
        { id: 'alpha', path: 'qc/p/alpha' },
        { id: 'beta', path: 'qc/p/beta' },
      ]);
      const paged = await ctx.core.docs.collections(S, 'qc/p', { limit: 2 });
      const next = await ctx.core.docs.collections(S, 'qc/p', { limit: 2, cursor: paged.nextCursor ?? '' });
      expect([...paged.items, ...next.items].map((c) => c.id)).toEqual(['alpha-2', 'alpha', 'beta']);
      expect(next.nextCursor).toBeNull();
      const root = await ctx.core.docs.collections(S);
      expect(root.items.map((c) => c.id)).toEqual(expect.arrayContaining(['q', 'qc', 'qg']));
      expect((await ctx.core.docs.collections(S, 'qc/none')).items).toEqual([]);
    });
  });
}
