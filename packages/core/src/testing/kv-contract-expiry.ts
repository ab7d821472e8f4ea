import { describe, expect, it } from 'vitest';
import { expectKvError, type KvContractContext, listAllKeys } from './kv-contract-context.js';

/** Strict TTLs: an expired entry is absent for every operation, swept or not. */
export function describeKvExpiry(ctx: KvContractContext): void {
  describe('expiry', () => {
    it('is live until its expiry instant and absent from then on', async () => {
      await ctx.core.kv.create({ key: 'ttl/edge', value: 'x', ttlSeconds: 10 });
      ctx.clock.advance(9_999);
      expect((await ctx.core.kv.get('ttl/edge')).value).toBe('x');
      ctx.clock.advance(1);
      await expectKvError(ctx.core.kv.get('ttl/edge'), 'NOT_FOUND');
    });

    it('treats an expired key as absent for get, list, update, delete and create', async () => {
      await ctx.core.kv.create({ key: 'ttl/all/a', value: 1, ttlSeconds: 5, tags: ['ttl-all'] });
      await ctx.core.kv.create({ key: 'ttl/all/b', value: 2 });
      ctx.clock.advance(6_000);

      await expectKvError(ctx.core.kv.get('ttl/all/a'), 'NOT_FOUND');
      expect(await listAllKeys(ctx.core, 'ttl/all/')).toEqual(['ttl/all/b']);
      expect((await ctx.core.kv.list({ tag: 'ttl-all' })).items).toEqual([]);
      await expectKvError(ctx.core.kv.update('ttl/all/a', { value: 9 }), 'NOT_FOUND');
      await expectKvError(ctx.core.kv.update('ttl/all/a', { value: 9 }, { ifVersion: 1 }), 'NOT_FOUND');
      await expectKvError(ctx.core.kv.delete('ttl/all/a'), 'NOT_FOUND');
      await expectKvError(ctx.core.kv.delete('ttl/all/a', { ifVersion: 1 }), 'NOT_FOUND');

      const recreated = await ctx.core.kv.create({ key: 'ttl/all/a', value: 'again' });
      expect(recreated).toMatchObject({ value: 'again', version: 1, tags: [], expiresAt: null });
      expect(recreated.createdAt).toBe(ctx.clock.now().toISOString());
    });

    it('upsert over an expired key starts again at version 1', async () => {
      await ctx.core.kv.create({ key: 'ttl/upsert', value: 1, ttlSeconds: 1 });
      await ctx.core.kv.update('ttl/upsert', { value: 2 });
      ctx.clock.advance(2_000);
      const fresh = await ctx.core.kv.upsert({ key: 'ttl/upsert', value: 3 });
      expect(fresh).toMatchObject({ value: 3, version: 1, createdAt: ctx.clock.now().toISOString() });
    });

    it('increment over an expired key restarts from zero without the old tags or expiry', async () => {
      await ctx.core.kv.create({ key: 'ttl/incr', value: 100, ttlSeconds: 1, tags: ['old'] });
      ctx.clock.advance(1_000);
      const fresh = await ctx.core.kv.increment('ttl/incr', 3);
      expect(fresh).toMatchObject({ value: 3, version: 1, tags: [], expiresAt: null });

      await ctx.core.kv.create({ key: 'ttl/incr-text', value: 'not a number', ttlSeconds: 1 });
      ctx.clock.advance(1_000);
      expect((await ctx.core.kv.increment('ttl/incr-text')).value).toBe(1);
    });

    it('sweepExpired removes expired rows in batches and leaves live ones', async () => {
      await ctx.core.kv.sweepExpired();
      const start = ctx.clock.now();
      const lines = Array.from({ length: 1_500 }, (_, i) => ({
        key: `sweep/${String(i).padStart(4, '0')}`,
        value: i,
        expiresAt: new Date(start.getTime() + 5_000).toISOString(),
      }));
      expect(await ctx.core.kv.import(lines)).toEqual({ created: 1_500, updated: 0, skipped: 0 });
      await ctx.core.kv.create({ key: 'sweep/live', value: 'stays', ttlSeconds: 3600 });

      expect(await ctx.core.kv.sweepExpired()).toBe(0);
      ctx.clock.advance(6_000);
      expect(await ctx.core.kv.sweepExpired()).toBeGreaterThanOrEqual(1_500);
      expect(await ctx.core.kv.sweepExpired()).toBe(0);

      // Moving the clock back would revive entries that were only hidden, not deleted.
      ctx.clock.set(start);
      try {
        expect(await listAllKeys(ctx.core, 'sweep/')).toEqual(['sweep/live']);
      } finally {
        ctx.clock.advance(6_000);
      }
    });
  });
}
