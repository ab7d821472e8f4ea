import { describe, expect, it } from 'vitest';
import type { KvSetInput } from '../kv/types.js';
import { expectKvError, type KvContractContext, listAllKeys } from './kv-contract-context.js';

const MAX_VALUE_BYTES = 256 * 1024;
const TEN_YEARS_SECONDS = 10 * 365 * 24 * 3600;

/** Bad input is a clear error, and nothing is written. */
export function describeKvLimits(ctx: KvContractContext): void {
  describe('limits and bad input', () => {
    it('accepts a 512-character key and rejects 513 characters', async () => {
      const prefix = 'limit/key/';
      const longest = prefix + 'k'.repeat(512 - prefix.length);
      expect((await ctx.core.kv.create({ key: longest, value: 1 })).key).toBe(longest);
      expect((await ctx.core.kv.get(longest)).key).toBe(longest);
      const error = await expectKvError(ctx.core.kv.create({ key: `${longest}k`, value: 1 }), 'VALIDATION_FAILED');
      expect(error.errors?.[0]?.path).toBe('key');
      expect(await listAllKeys(ctx.core, prefix)).toEqual([longest]);
    });

    it('rejects keys with characters outside the allowed set, on every operation', async () => {
      const badKeys = [
        '',
        'badkey/a b',
        'badkey/a?',
        'badkey/a#',
        'badkey/a%',
        'badkey/é',
        'badkey/a\nb',
        'badkey/*',
        'badkey/../x',
        'badkey/.',
        '..',
      ];
      for (const key of badKeys) {
        await expectKvError(ctx.core.kv.create({ key, value: 1 }), 'VALIDATION_FAILED');
        await expectKvError(ctx.core.kv.upsert({ key, value: 1 }), 'VALIDATION_FAILED');
        await expectKvError(ctx.core.kv.get(key), 'VALIDATION_FAILED');
        await expectKvError(ctx.core.kv.update(key, { value: 1 }), 'VALIDATION_FAILED');
        await expectKvError(ctx.core.kv.delete(key), 'VALIDATION_FAILED');
        await expectKvError(ctx.core.kv.increment(key), 'VALIDATION_FAILED');
      }
      expect(await listAllKeys(ctx.core, 'badkey/')).toEqual([]);
    });

    it('accepts a value at the size limit and refuses a larger one, writing nothing', async () => {
      const atLimit = 'x'.repeat(MAX_VALUE_BYTES - 2); // the JSON text adds two quotes
      expect((await ctx.core.kv.create({ key: 'size/ok', value: atLimit })).value).toBe(atLimit);

      const tooBig = { text: 'é'.repeat(MAX_VALUE_BYTES / 2) }; // two UTF-8 bytes per character
      const error = await expectKvError(ctx.core.kv.create({ key: 'size/big', value: tooBig }), 'PAYLOAD_TOO_LARGE');
      expect(error.details).toMatchObject({ maxValueBytes: MAX_VALUE_BYTES });
      await expectKvError(ctx.core.kv.upsert({ key: 'size/big', value: tooBig }), 'PAYLOAD_TOO_LARGE');
      await expectKvError(ctx.core.kv.get('size/big'), 'NOT_FOUND');

      await expectKvError(ctx.core.kv.update('size/ok', { value: tooBig }), 'PAYLOAD_TOO_LARGE');
      await expectKvError(ctx.core.kv.upsert({ key: 'size/ok', value: tooBig }), 'PAYLOAD_TOO_LARGE');
      expect(await ctx.core.kv.get('size/ok')).toMatchObject({ value: atLimit, version: 1 });
    });

    it('rejects a TTL that is not 1 second to 10 years, writing nothing', async () => {
      for (const ttlSeconds of [0, -1, 1.5, TEN_YEARS_SECONDS + 1, Number.MAX_SAFE_INTEGER, Number.NaN]) {
        const error = await expectKvError(
          ctx.core.kv.create({ key: 'ttlbad/a', value: 1, ttlSeconds }),
          'VALIDATION_FAILED',
        );
        expect(error.errors?.[0]?.path).toBe('ttlSeconds');
        await expectKvError(ctx.core.kv.upsert({ key: 'ttlbad/a', value: 1, ttlSeconds }), 'VALIDATION_FAILED');
      }
      await expectKvError(
        ctx.core.kv.create({ key: 'ttlbad/a', value: 1, ttlSeconds: '60' } as unknown as KvSetInput),
        'VALIDATION_FAILED',
      );
      expect(await listAllKeys(ctx.core, 'ttlbad/')).toEqual([]);

      const longest = await ctx.core.kv.create({ key: 'ttlbad/longest', value: 1, ttlSeconds: TEN_YEARS_SECONDS });
      expect(longest.expiresAt).toBe(new Date(ctx.clock.now().getTime() + TEN_YEARS_SECONDS * 1000).toISOString());
      await expectKvError(ctx.core.kv.update('ttlbad/longest', { value: 2, ttlSeconds: 0 }), 'VALIDATION_FAILED');
      expect(await ctx.core.kv.get('ttlbad/longest')).toEqual(longest);
    });

    it('rejects bad tags: too many, duplicated, bad characters, too long', async () => {
      const badTagLists = [
        Array.from({ length: 33 }, (_, i) => `t${i}`),
        ['same', 'same'],
        ['has/slash'],
        ['has space'],
        [''],
        ['t'.repeat(65)],
        'not-a-list',
      ];
      for (const tags of badTagLists) {
        const input = { key: 'tagbad/a', value: 1, tags } as unknown as KvSetInput;
        await expectKvError(ctx.core.kv.create(input), 'VALIDATION_FAILED');
      }
      expect(await listAllKeys(ctx.core, 'tagbad/')).toEqual([]);
      const most = Array.from({ length: 32 }, (_, i) => `t${i}`.padEnd(64, 'x'));
      expect((await ctx.core.kv.create({ key: 'tagbad/most', value: 1, tags: most })).tags).toEqual(most);
    });

    it('rejects a missing value, non-JSON values and unknown fields, writing nothing', async () => {
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      const inputs: unknown[] = [
        { key: 'valbad/a' },
        { key: 'valbad/a', value: undefined },
        { key: 'valbad/a', value: Number.NaN },
        { key: 'valbad/a', value: { n: Number.POSITIVE_INFINITY } },
        { key: 'valbad/a', value: { when: new Date() } },
        { key: 'valbad/a', value: { missing: undefined } },
        { key: 'valbad/a', value: [() => 1] },
        { key: 'valbad/a', value: 'nul \u0000 character' },
        { key: 'valbad/a', value: { 'nul\u0000name': 1 } },
        { key: 'valbad/a', value: 'lone \ud800 surrogate' },
        { key: 'valbad/a', value: cyclic },
        { key: 'valbad/a', value: 1, extra: true },
        null,
        'valbad/a',
      ];
      for (const input of inputs) {
        await expectKvError(ctx.core.kv.create(input as KvSetInput), 'VALIDATION_FAILED');
        await expectKvError(ctx.core.kv.upsert(input as KvSetInput), 'VALIDATION_FAILED');
      }
      expect(await listAllKeys(ctx.core, 'valbad/')).toEqual([]);

      await ctx.core.kv.create({ key: 'valbad/existing', value: 'kept' });
      await expectKvError(ctx.core.kv.update('valbad/existing', {} as never), 'VALIDATION_FAILED');
      await expectKvError(ctx.core.kv.update('valbad/existing', { value: 1, key: 'x' } as never), 'VALIDATION_FAILED');
      await expectKvError(ctx.core.kv.update('valbad/existing', { value: 1 }, { ifVersion: 1.5 }), 'VALIDATION_FAILED');
      expect(await ctx.core.kv.get('valbad/existing')).toMatchObject({ value: 'kept', version: 1 });
    });

    it('rejects an increment that is not a finite number, writing nothing', async () => {
      for (const by of [Number.NaN, Number.POSITIVE_INFINITY, '1', null]) {
        await expectKvError(ctx.core.kv.increment('incrbad/a', by as number), 'VALIDATION_FAILED');
      }
      expect(await listAllKeys(ctx.core, 'incrbad/')).toEqual([]);
    });

    it('rejects bad cursors, limits and list options', async () => {
      const notObject = Buffer.from('[1]').toString('base64url');
      const wrongField = Buffer.from(JSON.stringify({ k: 5 })).toString('base64url');
      for (const cursor of ['garbage!', 'bm90IGpzb24', notObject, wrongField, '']) {
        await expectKvError(ctx.core.kv.list({ cursor }), 'VALIDATION_FAILED');
      }
      for (const limit of [0, -1, 1001, 1.5, Number.NaN]) {
        await expectKvError(ctx.core.kv.list({ limit }), 'VALIDATION_FAILED');
      }
      await expectKvError(ctx.core.kv.list({ prefix: 'bad prefix' }), 'VALIDATION_FAILED');
      await expectKvError(ctx.core.kv.list({ tag: 'bad/tag' }), 'VALIDATION_FAILED');
      await expectKvError(ctx.core.kv.list({ other: 1 } as never), 'VALIDATION_FAILED');
      expect((await ctx.core.kv.list({ limit: 1000, prefix: 'limit/none/' })).items).toEqual([]);
    });
  });
}
