import { describe, expect, it } from 'vitest';
import type { KvEntry } from '../kv/types.js';
import { expectKvError, type KvContractContext, listAllKeys } from './kv-contract-context.js';

async function collect(iterable: AsyncIterable<KvEntry>): Promise<KvEntry[]> {
  const entries: KvEntry[] = [];
  for await (const entry of iterable) entries.push(entry);
  return entries;
}

/** NDJSON export/import: round trip, atomicity, duplicates and limits. */
export function describeKvImportExport(ctx: KvContractContext): void {
  describe('export and import', () => {
    it('exports every matching live entry in key order, and imports it back', async () => {
      await ctx.core.kv.create({ key: 'export/b', value: { nested: ['x', null] }, tags: ['exp'] });
      await ctx.core.kv.create({ key: 'export/a', value: '123', ttlSeconds: 3600 });
      await ctx.core.kv.create({ key: 'export/c', value: null });
      await ctx.core.kv.create({ key: 'export/gone', value: 1, ttlSeconds: 1 });
      await ctx.core.kv.update('export/c', { value: 7.5 });
      ctx.clock.advance(1_000);

      const exported = await collect(ctx.core.kv.export({ prefix: 'export/' }));
      expect(exported.map((entry) => entry.key)).toEqual(['export/a', 'export/b', 'export/c']);
      expect(exported[2]).toEqual(await ctx.core.kv.get('export/c'));
      expect((await collect(ctx.core.kv.export({ prefix: 'export/', tag: 'exp' }))).map((e) => e.key)).toEqual([
        'export/b',
      ]);
      const onlyC = await collect(ctx.core.kv.export({ prefix: 'export/', visible: (key) => key.endsWith('c') }));
      expect(onlyC.map((entry) => entry.key)).toEqual(['export/c']);

      for (const entry of exported) await ctx.core.kv.delete(entry.key);
      // Lines as exported (with version, createdAt, updatedAt) go back in unchanged.
      const lines = JSON.parse(JSON.stringify(exported)) as unknown[];
      expect(await ctx.core.kv.import(lines)).toEqual({ created: 3, updated: 0, skipped: 0 });
      for (const original of exported) {
        const restored = await ctx.core.kv.get(original.key);
        expect(restored).toMatchObject({
          value: original.value,
          tags: original.tags,
          expiresAt: original.expiresAt,
          version: 1,
        });
      }

      ctx.clock.advance(1_000);
      expect(await ctx.core.kv.import(lines)).toEqual({ created: 0, updated: 3, skipped: 0 });
      expect(await ctx.core.kv.get('export/c')).toMatchObject({ value: 7.5, version: 2 });
    });

    it('exports more than one page of entries', async () => {
      const lines = Array.from({ length: 1_234 }, (_, i) => ({ key: `bulk/${String(i).padStart(5, '0')}`, value: i }));
      expect(await ctx.core.kv.import(lines)).toEqual({ created: 1_234, updated: 0, skipped: 0 });
      const exported = await collect(ctx.core.kv.export({ prefix: 'bulk/' }));
      expect(exported.map((entry) => entry.key)).toEqual(lines.map((line) => line.key));
      expect(exported.map((entry) => entry.value)).toEqual(lines.map((line) => line.value));
    });

    it('skips lines already expired, counts an expired existing entry as created', async () => {
      const now = ctx.clock.now().getTime();
      await ctx.core.kv.create({ key: 'import/stale', value: 'old', ttlSeconds: 1 });
      await ctx.core.kv.create({ key: 'import/live', value: 'old' });
      ctx.clock.advance(1_000);
      const result = await ctx.core.kv.import([
        { key: 'import/past', value: 1, expiresAt: new Date(now).toISOString() },
        { key: 'import/future', value: 2, expiresAt: new Date(now + 3_600_000).toISOString(), tags: ['i'] },
        { key: 'import/stale', value: 3, expiresAt: null },
        { key: 'import/live', value: 4 },
      ]);
      expect(result).toEqual({ created: 2, updated: 1, skipped: 1 });
      await expectKvError(ctx.core.kv.get('import/past'), 'NOT_FOUND');
      expect(await ctx.core.kv.get('import/future')).toMatchObject({
        value: 2,
        tags: ['i'],
        expiresAt: new Date(now + 3_600_000).toISOString(),
      });
      expect(await ctx.core.kv.get('import/stale')).toMatchObject({ value: 3, version: 1 });
      expect(await ctx.core.kv.get('import/live')).toMatchObject({ value: 4, version: 2 });
      expect(await ctx.core.kv.import([])).toEqual({ created: 0, updated: 0, skipped: 0 });
    });

    it('writes nothing when any line is bad, and names every bad line', async () => {
      await ctx.core.kv.create({ key: 'atomic/existing', value: 'before' });
      const error = await expectKvError(
        ctx.core.kv.import([
          { key: 'atomic/a', value: 1 },
          { key: 'atomic/existing', value: 'after' },
          { key: 'atomic/bad key', value: 2 },
          { key: 'atomic/b' },
          { key: 'atomic/c', value: 3, tags: ['ok', 'ok'] },
          { key: 'atomic/d', value: 4, expiresAt: 'tomorrow' },
          'not an object',
        ]),
        'VALIDATION_FAILED',
      );
      expect(error.errors?.map((e) => e.path)).toEqual(['2.key', '3.value', '4.tags.1', '5.expiresAt', '6']);
      expect(await listAllKeys(ctx.core, 'atomic/')).toEqual(['atomic/existing']);
      expect((await ctx.core.kv.get('atomic/existing')).value).toBe('before');
    });

    it('rejects duplicate keys within one import, writing nothing', async () => {
      const error = await expectKvError(
        ctx.core.kv.import([
          { key: 'dupimport/a', value: 1 },
          { key: 'dupimport/b', value: 2 },
          { key: 'dupimport/a', value: 3 },
        ]),
        'VALIDATION_FAILED',
      );
      expect(error.errors).toEqual([{ path: '2.key', message: 'duplicate of line 0' }]);
      expect(await listAllKeys(ctx.core, 'dupimport/')).toEqual([]);
    });

    it('rejects an oversized value, too many lines, or a body that is not a list', async () => {
      const big = 'x'.repeat(256 * 1024);
      const error = await expectKvError(
        ctx.core.kv.import([
          { key: 'bigimport/a', value: 1 },
          { key: 'bigimport/b', value: big },
        ]),
        'VALIDATION_FAILED',
      );
      expect(error.errors?.map((e) => e.path)).toEqual(['1.value']);

      const tooMany = Array.from({ length: 10_001 }, (_, i) => ({ key: `bigimport/n${i}`, value: i }));
      await expectKvError(ctx.core.kv.import(tooMany), 'VALIDATION_FAILED');
      await expectKvError(
        ctx.core.kv.import({ key: 'bigimport/x', value: 1 } as unknown as unknown[]),
        'VALIDATION_FAILED',
      );
      expect(await listAllKeys(ctx.core, 'bigimport/')).toEqual([]);
    });
  });
}
