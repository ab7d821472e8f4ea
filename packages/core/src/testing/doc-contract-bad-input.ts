import { describe, expect, it } from 'vitest';
import { SYSTEM_PRINCIPAL } from '../auth/types.js';
import type { CommitWrite, DocFilter, JsonObject } from '../docs/types.js';
import type { DocContractContext } from './doc-contract-context.js';
import { expectDocError, feedAfter, feedEnd } from './doc-contract-context.js';

const S = SYSTEM_PRINCIPAL;

const BAD_DOC_PATHS = [
  '',
  'bad',
  'bad/a/b',
  '/bad/a',
  'bad/a/',
  'bad//a',
  'bad/./x/a',
  'bad/../a',
  'bad/a b',
  'bad/ä',
  `bad/${'x'.repeat(129)}`,
  Array.from({ length: 18 }, (_, i) => `s${i}`).join('/'),
];

const BAD_FILTERS: [string, unknown][] = [
  ['not an object', []],
  ['a string', 'status'],
  ['unsupported top-level operator', { $where: 'x' }],
  ['unsupported field operator', { n: { $regex: 'a' } }],
  ['mixed operators and fields', { n: { $gt: 1, a: 2 } }],
  ['$and not an array', { $and: { n: 1 } }],
  ['$or empty', { $or: [] }],
  ['$in not an array', { n: { $in: 1 } }],
  ['$in too long', { n: { $in: Array.from({ length: 101 }, (_, i) => i) } }],
  ['$exists not boolean', { n: { $exists: 1 } }],
  ['range on a boolean', { n: { $gt: true } }],
  ['range on an object', { n: { $lt: {} } }],
  ['$startsWith a number', { s: { $startsWith: 1 } }],
  ['$ as a field', { $: 1 }],
  ['empty field segment', { 'a..b': 1 }],
  ['field too long', { ['x'.repeat(1025)]: 1 }],
  ['createdAt not a time', { createdAt: { $gt: 'yesterday' } }],
  ['createdAt with microseconds', { createdAt: '2026-01-01T00:00:00.123456Z' }],
  ['id with a number', { id: 1 }],
  ['$contains on a time', { updatedAt: { $contains: '2026' } }],
  ['value with U+0000', { s: 'a\u0000b' }],
  [
    'too deep',
    { $and: [{ $and: [{ $and: [{ $and: [{ $and: [{ $and: [{ $and: [{ $and: [{ n: 1 }] }] }] }] }] }] }] }] },
  ],
  ['too deep with $not', { $not: { $not: { $not: { $not: { $not: { $not: { $not: { $not: { n: 1 } } } } } } } } }],
];

/** Every bad input is a clear error and writes nothing. */
export function describeDocBadInput(ctx: DocContractContext): void {
  describe('bad input', () => {
    const expectNothingWritten = async (fn: () => Promise<unknown>, code: Parameters<typeof expectDocError>[1]) => {
      const last = await feedEnd(ctx.core);
      await expectDocError(fn(), code);
      const after = await feedAfter(ctx.core, last, { limit: 10 });
      expect(after.items).toEqual([]);
    };

    it.each(BAD_DOC_PATHS.map((path) => [path.slice(0, 40), path]))('document path %j is refused', async (_n, path) => {
      await expectNothingWritten(() => ctx.core.docs.set(S, path, { a: 1 }), 'VALIDATION_FAILED');
      await expectDocError(ctx.core.docs.get(S, path), 'VALIDATION_FAILED');
      await expectNothingWritten(
        () =>
          ctx.core.docs.commit(S, [
            { op: 'set', path: 'bad/ok', data: {} },
            { op: 'set', path, data: {} },
          ]),
        'VALIDATION_FAILED',
      );
    });

    it('a collection path where a document path belongs (and the reverse) is refused', async () => {
      await expectNothingWritten(() => ctx.core.docs.create(S, 'bad/a', { a: 1 }), 'VALIDATION_FAILED');
      await expectDocError(ctx.core.docs.list(S, 'bad/a'), 'VALIDATION_FAILED');
      await expectDocError(ctx.core.docs.history(S, 'bad'), 'VALIDATION_FAILED');
      await expectDocError(ctx.core.docs.collections(S, 'bad'), 'VALIDATION_FAILED');
      await expectDocError(
        ctx.core.docs.query(S, { from: { collection: 'a/b', allDescendants: true } }),
        'VALIDATION_FAILED',
      );
    });

    it('non-object documents and oversized documents are refused', async () => {
      for (const data of [[1, 2], 'text', 42, null, { n: Number.NaN }, { s: 'a\u0000' }]) {
        await expectNothingWritten(
          () => ctx.core.docs.set(S, 'bad/doc', data as unknown as JsonObject),
          'VALIDATION_FAILED',
        );
      }
      const big = { blob: 'x'.repeat(64 * 1024) };
      await expectNothingWritten(() => ctx.core.docs.set(S, 'bad/big', big), 'PAYLOAD_TOO_LARGE');
      await ctx.core.docs.set(S, 'bad/small', { a: 1 });
      await expectNothingWritten(() => ctx.core.docs.patch(S, 'bad/small', { blob: big.blob }), 'PAYLOAD_TOO_LARGE');
      await expectNothingWritten(
        () => ctx.core.docs.patch(S, 'bad/small', [{ op: 'replace', path: '', value: [1] }]),
        'VALIDATION_FAILED',
      );
      await expectNothingWritten(
        () => ctx.core.docs.patch(S, 'bad/small', [{ op: 'jump', path: '/a' }] as never),
        'VALIDATION_FAILED',
      );
    });

    it.each(BAD_FILTERS)('filter: %s → 400', async (_name, where) => {
      const error = await expectDocError(
        ctx.core.docs.list(S, 'bad', { where: where as DocFilter }),
        'VALIDATION_FAILED',
      );
      expect(error.errors?.length).toBeGreaterThan(0);
    });

    it('bad orders, selects, limits and cursors → 400', async () => {
      const list = (options: object) => ctx.core.docs.list(S, 'bad', options);
      await expectDocError(list({ orderBy: [{ field: 'a..b', direction: 'asc' }] }), 'VALIDATION_FAILED');
      await expectDocError(list({ orderBy: [{ field: 'n', direction: 'up' }] }), 'VALIDATION_FAILED');
      await expectDocError(
        list({
          orderBy: [
            { field: 'n', direction: 'asc' },
            { field: 'n', direction: 'desc' },
          ],
        }),
        'VALIDATION_FAILED',
      );
      await expectDocError(
        list({
          orderBy: [
            { field: 'path', direction: 'asc' },
            { field: 'n', direction: 'asc' },
          ],
        }),
        'VALIDATION_FAILED',
      );
      await expectDocError(list({ select: ['a..b'] }), 'VALIDATION_FAILED');
      await expectDocError(list({ limit: 0 }), 'VALIDATION_FAILED');
      await expectDocError(list({ limit: 1001 }), 'VALIDATION_FAILED');
      for (const cursor of ['garbage', 'eyJxIjoxfQ', Buffer.from('{"q":"x","k":[1]}').toString('base64url')]) {
        await expectDocError(list({ cursor }), 'VALIDATION_FAILED');
      }
    });

    it('bad commits and conflicting preconditions write nothing', async () => {
      const bad: unknown[][] = [
        [],
        [{ op: 'upsert', path: 'bad/x', data: {} }],
        [{ op: 'set', path: 'bad/x' }],
        [{ op: 'set', path: 'bad/x', data: {}, expect: { exists: false, revision: 1 } }],
        [{ op: 'set', path: 'bad/x', data: {}, expect: { revision: 0 } }],
        [{ op: 'set', path: 'bad/x', data: {}, extra: 1 }],
        Array.from({ length: 501 }, (_, i) => ({ op: 'set', path: `bad/x${i}`, data: {} })),
      ];
      for (const writes of bad) {
        await expectNothingWritten(() => ctx.core.docs.commit(S, writes as CommitWrite[]), 'VALIDATION_FAILED');
      }
    });
  });
}
