import { describe, expect, it } from 'vitest';
import type { KvEntry, KvListOptions } from '../kv/types.js';
import type { Page } from '../pagination.js';
import type { KvContractContext } from './kv-contract-context.js';

/** Follows every cursor; returns the pages (each page's items as keys). */
async function allPages(ctx: KvContractContext, options: Omit<KvListOptions, 'cursor'>): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const page: Page<KvEntry> = await ctx.core.kv.list({ ...options, ...(cursor ? { cursor } : {}) });
    pages.push(page.items.map((entry) => entry.key));
    cursor = page.nextCursor;
    if (pages.length > 100) throw new Error('the cursor never ends');
  } while (cursor);
  return pages;
}

/** Prefix and tag listing, keyset pagination and the `visible` filter. */
export function describeKvListing(ctx: KvContractContext): void {
  describe('listing', () => {
    // ASCII order (what `COLLATE "C"` gives), not a locale's: '-' < '.' < '0' < ':' < '@' < 'A' < '_' < 'a'.
    const suffixes = ['-', '.x', '0', '9', ':', '@', 'A', 'Z', '_', 'a', 'z', 'a/b', 'a-b', 'aa', 'b', 'c/d/e'];

    it('lists a prefix in plain byte order across pages, with no gaps or duplicates', async () => {
      const keys = [...suffixes, ...Array.from({ length: 14 }, (_, i) => `n${String(i).padStart(2, '0')}`)].map(
        (suffix) => `page/${suffix}`,
      );
      for (const key of [...keys].reverse()) await ctx.core.kv.create({ key, value: key });
      // Neighbours that a sloppy prefix match would include.
      for (const key of ['page', 'pagf/x', 'pag', 'page0/x', 'Page/x']) await ctx.core.kv.create({ key, value: 0 });

      const pages = await allPages(ctx, { prefix: 'page/', limit: 7 });
      expect(pages.map((page) => page.length)).toEqual([7, 7, 7, 7, 2]);
      expect(pages.flat()).toEqual([...keys].sort());
      expect(new Set(pages.flat()).size).toBe(keys.length);
    });

    it('ends with a null cursor when the last page is exactly full', async () => {
      for (let i = 0; i < 6; i++) await ctx.core.kv.create({ key: `exact/${i}`, value: i });
      const first = await ctx.core.kv.list({ prefix: 'exact/', limit: 3 });
      expect(first.items.map((entry) => entry.key)).toEqual(['exact/0', 'exact/1', 'exact/2']);
      expect(first.nextCursor).not.toBeNull();
      const second = await ctx.core.kv.list({ prefix: 'exact/', limit: 3, cursor: first.nextCursor! });
      expect(second.items.map((entry) => entry.key)).toEqual(['exact/3', 'exact/4', 'exact/5']);
      expect(second.nextCursor).toBeNull();
      expect(await ctx.core.kv.list({ prefix: 'exact/none/' })).toEqual({ items: [], nextCursor: null });
    });

    it('treats LIKE wildcards in a prefix literally', async () => {
      for (const key of ['wild_x/1', 'wildAx/1', 'wild.x/1', 'wildxx/1']) await ctx.core.kv.create({ key, value: 1 });
      expect((await ctx.core.kv.list({ prefix: 'wild_' })).items.map((entry) => entry.key)).toEqual(['wild_x/1']);
      expect((await ctx.core.kv.list({ prefix: 'wild.' })).items.map((entry) => entry.key)).toEqual(['wild.x/1']);
    });

    it('returns full entries and defaults to pages of 50', async () => {
      for (let i = 0; i < 51; i++) await ctx.core.kv.create({ key: `default/${String(i).padStart(2, '0')}`, value: i });
      const page = await ctx.core.kv.list({ prefix: 'default/' });
      expect(page.items).toHaveLength(50);
      expect(page.items[0]).toEqual(await ctx.core.kv.get('default/00'));
      const rest = await ctx.core.kv.list({ prefix: 'default/', cursor: page.nextCursor! });
      expect(rest).toEqual({ items: [await ctx.core.kv.get('default/50')], nextCursor: null });
    });

    it('lists by tag, alone or with a prefix, across pages', async () => {
      await ctx.core.kv.create({ key: 'tagged/a', value: 1, tags: ['blue', 'list-tag'] });
      await ctx.core.kv.create({ key: 'tagged/b', value: 2, tags: ['red'] });
      await ctx.core.kv.create({ key: 'tagged/c', value: 3, tags: ['list-tag'] });
      await ctx.core.kv.create({ key: 'tagged/d', value: 4 });
      await ctx.core.kv.create({ key: 'other/e', value: 5, tags: ['list-tag'] });
      await ctx.core.kv.create({ key: 'tagged/f', value: 6, tags: ['list-tagged', 'list-ta'] });

      const pages = await allPages(ctx, { tag: 'list-tag', limit: 1 });
      expect(pages.flat()).toEqual(['other/e', 'tagged/a', 'tagged/c']);
      expect((await ctx.core.kv.list({ tag: 'list-tag', prefix: 'tagged/' })).items.map((e) => e.key)).toEqual([
        'tagged/a',
        'tagged/c',
      ]);
      const tagged = await ctx.core.kv.list({ tag: 'blue' });
      expect(tagged.items).toEqual([await ctx.core.kv.get('tagged/a')]);

      await ctx.core.kv.update('tagged/a', { value: 1, tags: ['green'] });
      expect((await ctx.core.kv.list({ tag: 'list-tag' })).items.map((e) => e.key)).toEqual(['other/e', 'tagged/c']);
    });

    it('skips expired entries but keeps paging', async () => {
      for (let i = 0; i < 9; i++) {
        await ctx.core.kv.create({ key: `gaps/${i}`, value: i, ...(i % 3 === 0 ? {} : { ttlSeconds: 1 }) });
      }
      ctx.clock.advance(1_000);
      expect((await allPages(ctx, { prefix: 'gaps/', limit: 2 })).flat()).toEqual(['gaps/0', 'gaps/3', 'gaps/6']);
    });

    it('drops entries that are not visible while the cursor still advances', async () => {
      for (let i = 0; i < 10; i++) await ctx.core.kv.create({ key: `visible/${i}`, value: i });
      const visible = (key: string) => key === 'visible/1' || key === 'visible/8';
      const pages = await allPages(ctx, { prefix: 'visible/', limit: 3, visible });
      expect(pages).toEqual([['visible/1'], [], ['visible/8'], []]);
    });
  });
}
