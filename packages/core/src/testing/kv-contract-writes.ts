import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../kv/types.js';
import { expectKvError, type KvContractContext } from './kv-contract-context.js';

/** Create, upsert, get, update, delete, compare-and-swap, increment and JSON round trips. */
export function describeKvWrites(ctx: KvContractContext): void {
  describe('create, upsert and get', () => {
    it('creates an entry at version 1 and reads it back', async () => {
      const now = ctx.clock.now().toISOString();
      const created = await ctx.core.kv.create({ key: 'create/a', value: { id: 42 } });
      expect(created).toEqual({
        key: 'create/a',
        value: { id: 42 },
        version: 1,
        tags: [],
        expiresAt: null,
        createdAt: now,
        updatedAt: now,
      });
      expect(await ctx.core.kv.get('create/a')).toEqual(created);
    });

    it('sets expiry from ttlSeconds and keeps the tags', async () => {
      const expected = new Date(ctx.clock.now().getTime() + 90_000).toISOString();
      const created = await ctx.core.kv.create({ key: 'create/ttl', value: 1, ttlSeconds: 90, tags: ['b', 'a'] });
      expect(created.expiresAt).toBe(expected);
      expect(created.tags).toEqual(['b', 'a']);
      expect(await ctx.core.kv.get('create/ttl')).toEqual(created);
    });

    it('refuses to create over a live key and leaves it unchanged', async () => {
      const first = await ctx.core.kv.create({ key: 'create/dup', value: 'first' });
      await expectKvError(ctx.core.kv.create({ key: 'create/dup', value: 'second' }), 'ALREADY_EXISTS');
      expect(await ctx.core.kv.get('create/dup')).toEqual(first);
    });

    it('upserts: creates at version 1, then replaces value, tags and expiry keeping createdAt', async () => {
      const first = await ctx.core.kv.upsert({ key: 'upsert/a', value: 1, ttlSeconds: 60, tags: ['x'] });
      expect(first.version).toBe(1);
      ctx.clock.advance(1000);
      const second = await ctx.core.kv.upsert({ key: 'upsert/a', value: 'two' });
      expect(second).toEqual({
        key: 'upsert/a',
        value: 'two',
        version: 2,
        tags: [],
        expiresAt: null,
        createdAt: first.createdAt,
        updatedAt: ctx.clock.now().toISOString(),
      });
      expect(await ctx.core.kv.get('upsert/a')).toEqual(second);
    });

    it('answers NOT_FOUND for a key that was never written', async () => {
      const error = await expectKvError(ctx.core.kv.get('get/missing'), 'NOT_FOUND');
      expect(error.message).toContain('get/missing');
    });
  });

  describe('update and delete', () => {
    it('keeps expiry and tags when omitted, replaces them when given, removes expiry with null', async () => {
      const created = await ctx.core.kv.create({ key: 'update/a', value: 1, ttlSeconds: 3600, tags: ['t'] });
      ctx.clock.advance(1000);
      const kept = await ctx.core.kv.update('update/a', { value: 2 });
      expect(kept).toMatchObject({ value: 2, version: 2, tags: ['t'], expiresAt: created.expiresAt });
      expect(kept.createdAt).toBe(created.createdAt);
      expect(kept.updatedAt).toBe(ctx.clock.now().toISOString());

      const retagged = await ctx.core.kv.update('update/a', { value: 3, ttlSeconds: 10, tags: ['u', 'v'] });
      expect(retagged).toMatchObject({ value: 3, version: 3, tags: ['u', 'v'] });
      expect(retagged.expiresAt).toBe(new Date(ctx.clock.now().getTime() + 10_000).toISOString());

      const persistent = await ctx.core.kv.update('update/a', { value: 4, ttlSeconds: null, tags: [] });
      expect(persistent).toMatchObject({ value: 4, version: 4, tags: [], expiresAt: null });
      expect(await ctx.core.kv.get('update/a')).toEqual(persistent);
    });

    it('answers NOT_FOUND when updating a missing key, and creates nothing', async () => {
      await expectKvError(ctx.core.kv.update('update/missing', { value: 1 }), 'NOT_FOUND');
      await expectKvError(ctx.core.kv.update('update/missing', { value: 1 }, { ifVersion: 1 }), 'NOT_FOUND');
      await expectKvError(ctx.core.kv.get('update/missing'), 'NOT_FOUND');
    });

    it('compare-and-swap: the current version wins, a stale one fails and changes nothing', async () => {
      await ctx.core.kv.create({ key: 'cas/a', value: 'v1' });
      const second = await ctx.core.kv.update('cas/a', { value: 'v2' }, { ifVersion: 1 });
      expect(second.version).toBe(2);
      const error = await expectKvError(
        ctx.core.kv.update('cas/a', { value: 'lost' }, { ifVersion: 1 }),
        'PRECONDITION_FAILED',
      );
      expect(error.details).toEqual({ currentVersion: 2 });
      expect(await ctx.core.kv.get('cas/a')).toEqual(second);
    });

    it('deletes, returning the entry; with ifVersion only at that version', async () => {
      const created = await ctx.core.kv.create({ key: 'delete/a', value: [1, 2] });
      await ctx.core.kv.update('delete/a', { value: [3] });
      const error = await expectKvError(ctx.core.kv.delete('delete/a', { ifVersion: 1 }), 'PRECONDITION_FAILED');
      expect(error.details).toEqual({ currentVersion: 2 });
      expect((await ctx.core.kv.get('delete/a')).value).toEqual([3]);

      const deleted = await ctx.core.kv.delete('delete/a', { ifVersion: 2 });
      expect(deleted).toMatchObject({ key: 'delete/a', value: [3], version: 2, createdAt: created.createdAt });
      await expectKvError(ctx.core.kv.get('delete/a'), 'NOT_FOUND');
      await expectKvError(ctx.core.kv.delete('delete/a'), 'NOT_FOUND');

      await ctx.core.kv.create({ key: 'delete/b', value: null });
      expect((await ctx.core.kv.delete('delete/b')).value).toBeNull();
      await expectKvError(ctx.core.kv.get('delete/b'), 'NOT_FOUND');
    });
  });

  describe('increment', () => {
    it('creates a missing key at the amount (default 1), with no tags and no expiry', async () => {
      expect(await ctx.core.kv.increment('incr/default')).toMatchObject({
        value: 1,
        version: 1,
        tags: [],
        expiresAt: null,
      });
      expect((await ctx.core.kv.increment('incr/five', 5)).value).toBe(5);
      expect((await ctx.core.kv.increment('incr/negative', -2.5)).value).toBe(-2.5);
    });

    it('adds to a number, keeping its tags and expiry', async () => {
      const created = await ctx.core.kv.create({ key: 'incr/n', value: 10, ttlSeconds: 3600, tags: ['c'] });
      const after = await ctx.core.kv.increment('incr/n', 5);
      expect(after).toMatchObject({ value: 15, version: 2, tags: ['c'], expiresAt: created.expiresAt });
      expect((await ctx.core.kv.increment('incr/n', -20)).value).toBe(-5);
      expect(await ctx.core.kv.get('incr/n')).toMatchObject({ value: -5, version: 3 });
    });

    it('adds floats and large integers as JavaScript does', async () => {
      await ctx.core.kv.create({ key: 'incr/float', value: 1.5 });
      expect((await ctx.core.kv.increment('incr/float', 1)).value).toBe(2.5);
      await ctx.core.kv.create({ key: 'incr/tenth', value: 0.1 });
      expect((await ctx.core.kv.increment('incr/tenth', 0.2)).value).toBe(0.1 + 0.2);
      await ctx.core.kv.create({ key: 'incr/big', value: 2 ** 52 });
      const big = await ctx.core.kv.increment('incr/big', 1);
      expect(big.value).toBe(2 ** 52 + 1);
      expect(typeof big.value).toBe('number');
    });

    it('refuses a value that is not a number and leaves it unchanged', async () => {
      const values: JsonValue[] = ['5', null, true, [1], { n: 1 }];
      for (const [index, value] of values.entries()) {
        const key = `incr/nan-${index}`;
        const created = await ctx.core.kv.create({ key, value });
        await expectKvError(ctx.core.kv.increment(key, 1), 'NOT_A_NUMBER');
        expect(await ctx.core.kv.get(key)).toEqual(created);
      }
    });

    it('refuses a sum beyond the number range and leaves the value unchanged', async () => {
      const created = await ctx.core.kv.create({ key: 'incr/huge', value: Number.MAX_VALUE });
      await expectKvError(ctx.core.kv.increment('incr/huge', Number.MAX_VALUE), 'NOT_A_NUMBER');
      expect(await ctx.core.kv.get('incr/huge')).toEqual(created);
      expect((await ctx.core.kv.increment('incr/huge', -Number.MAX_VALUE)).value).toBe(0);
    });

    it('is atomic: 50 concurrent increments add exactly 50', async () => {
      await ctx.core.kv.create({ key: 'incr/race', value: 0 });
      await Promise.all(Array.from({ length: 50 }, () => ctx.core.kv.increment('incr/race')));
      expect(await ctx.core.kv.get('incr/race')).toMatchObject({ value: 50, version: 51 });
    });

    it('is atomic on a missing key: concurrent first increments create it once', async () => {
      await Promise.all(Array.from({ length: 20 }, () => ctx.core.kv.increment('incr/race-new', 2)));
      expect(await ctx.core.kv.get('incr/race-new')).toMatchObject({ value: 40, version: 20 });
    });
  });

  describe('JSON values', () => {
    const values: Array<[string, JsonValue]> = [
      ['numeric string', '123'],
      ['empty string', ''],
      ['quoted string', '"quoted" \\ back\nslash\ttab'],
      ['null', null],
      ['true', true],
      ['false', false],
      ['zero', 0],
      ['negative float', -1.25],
      ['tiny float', 5e-324],
      ['large float', 1.7976931348623157e308],
      ['max safe integer', Number.MAX_SAFE_INTEGER],
      ['empty object', {}],
      ['empty array', []],
      ['unicode', 'héllo wörld 🌍 中文 \u2028'],
      ['nested', { a: [1, '2', null, { b: { c: [true, false, { d: 'é' }] } }], 'key with spaces': '', e: {} }],
      ['array of mixed', [0, '', null, [], {}, [[[]]]]],
    ];
    for (const [name, value] of values) {
      it(`round-trips ${name} exactly through every operation`, async () => {
        const key = `json/${name.replaceAll(' ', '-')}`;
        expect((await ctx.core.kv.create({ key, value })).value).toEqual(value);
        expect((await ctx.core.kv.get(key)).value).toEqual(value);
        expect((await ctx.core.kv.update(key, { value })).value).toEqual(value);
        expect((await ctx.core.kv.upsert({ key, value })).value).toEqual(value);
        const listed = await ctx.core.kv.list({ prefix: key });
        expect(listed.items.find((entry) => entry.key === key)?.value).toEqual(value);
        expect((await ctx.core.kv.delete(key)).value).toEqual(value);
      });
    }

    it('detaches stored values from the objects passed in and handed out', async () => {
      const value = { list: [1, 2], inner: { n: 1 } };
      const created = await ctx.core.kv.create({ key: 'json/detached', value });
      value.list.push(3);
      value.inner.n = 99;
      (created.value as { list: number[] }).list.push(4);
      const read = await ctx.core.kv.get('json/detached');
      expect(read.value).toEqual({ list: [1, 2], inner: { n: 1 } });
      read.tags.push('mutated');
      expect((await ctx.core.kv.get('json/detached')).tags).toEqual([]);
    });
  });
}
