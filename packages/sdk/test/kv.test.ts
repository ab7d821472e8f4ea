import { testBackendNames } from '@proserver/core/testing';
import { type ApiError, isApiError, type KvEntry, type KvImportEntry } from '@proserver/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessServer, startInProcess } from './support/in-process.js';

/** Awaits a call expected to fail and answers its ApiError. */
async function failure(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isApiError(error)) throw new Error(`expected an ApiError, got ${String(error)}`);
  return error;
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

for (const backend of testBackendNames()) {
  describe(`sdk kv on ${backend}`, () => {
    let server: InProcessServer;
    beforeAll(async () => {
      server = await startInProcess(backend);
    });
    afterAll(async () => {
      await server?.close();
    });

    it('creates, reads and refuses to create twice', async () => {
      const kv = server.owner.kv;
      const created = await kv.create({ key: 'create/a', value: { n: 1 }, tags: ['x'], ttlSeconds: 60 });
      expect(created).toMatchObject({ key: 'create/a', value: { n: 1 }, version: 1, tags: ['x'] });
      expect(Date.parse(created.expiresAt ?? '')).toBe(server.clock.now().getTime() + 60_000);
      expect(await kv.get('create/a')).toEqual(created);

      const error = await failure(kv.create({ key: 'create/a', value: 2 }));
      expect(error).toMatchObject({ name: 'ApiError', status: 409, code: 'ALREADY_EXISTS' });
      expect((await kv.get('create/a')).value).toEqual({ n: 1 });
    });

    it('upserts: creates, then replaces value, tags and expiry', async () => {
      const kv = server.owner.kv;
      const first = await kv.upsert({ key: 'upsert/a', value: 'one', tags: ['t'], ttlSeconds: 30 });
      expect(first).toMatchObject({ version: 1, value: 'one', tags: ['t'] });
      const second = await kv.upsert({ key: 'upsert/a', value: 'two' });
      expect(second).toMatchObject({ version: 2, value: 'two', tags: [], expiresAt: null });
    });

    it('encodes each key segment and keeps the slashes', async () => {
      const key = 'enc/user@example.com/x:y';
      await server.owner.kv.upsert({ key, value: true });
      const before = server.requests.length;
      expect((await server.owner.kv.get(key)).key).toBe(key);
      const sent = server.requests[before];
      expect(new URL(sent?.url ?? '').pathname).toBe('/api/key-value/enc/user%40example.com/x%3Ay');
    });

    it('refuses keys with . or .. segments before sending anything', async () => {
      const before = server.requests.length;
      const error = await failure(server.owner.kv.get('a/../b'));
      expect(error).toMatchObject({ status: 0, code: 'VALIDATION_FAILED' });
      expect(server.requests.length).toBe(before);
    });

    it('reports a missing key as NOT_FOUND with a request id', async () => {
      const error = await failure(server.owner.kv.get('missing/key'));
      expect(error).toMatchObject({ status: 404, code: 'NOT_FOUND' });
      expect(error.requestId).toEqual(expect.any(String));
      expect(error.message).toContain('NOT_FOUND');
      expect((await failure(server.owner.kv.update('missing/key', { value: 1 }))).code).toBe('NOT_FOUND');
      expect((await failure(server.owner.kv.delete('missing/key'))).code).toBe('NOT_FOUND');
    });

    it('updates with compare-and-swap: 412 PRECONDITION_FAILED on a stale version, nothing written', async () => {
      const kv = server.owner.kv;
      const created = await kv.create({ key: 'cas/a', value: 1, tags: ['keep'] });
      const before = server.requests.length;
      const updated = await kv.update('cas/a', { value: 2 }, { ifVersion: created.version });
      expect(server.requests[before]?.headers.get('if-match')).toBe('"1"');
      expect(updated).toMatchObject({ value: 2, version: 2, tags: ['keep'] });

      const error = await failure(kv.update('cas/a', { value: 3 }, { ifVersion: created.version }));
      expect(error).toMatchObject({ name: 'ApiError', status: 412, code: 'PRECONDITION_FAILED' });
      expect(await kv.get('cas/a')).toMatchObject({ value: 2, version: 2 });

      const unconditional = await kv.update('cas/a', { value: 4, ttlSeconds: 10, tags: [] });
      expect(unconditional).toMatchObject({ value: 4, version: 3, tags: [] });
      expect(unconditional.expiresAt).not.toBeNull();
      expect((await kv.update('cas/a', { value: 5, ttlSeconds: null })).expiresAt).toBeNull();
    });

    it('deletes, with and without a version condition', async () => {
      const kv = server.owner.kv;
      await kv.create({ key: 'del/a', value: 1 });
      await kv.update('del/a', { value: 2 });
      const stale = await failure(kv.delete('del/a', { ifVersion: 1 }));
      expect(stale).toMatchObject({ status: 412, code: 'PRECONDITION_FAILED' });
      expect((await kv.get('del/a')).value).toBe(2);
      await expect(kv.delete('del/a', { ifVersion: 2 })).resolves.toBeUndefined();
      expect((await failure(kv.get('del/a'))).code).toBe('NOT_FOUND');

      await kv.create({ key: 'del/b', value: 1 });
      await kv.delete('del/b');
      expect((await failure(kv.get('del/b'))).status).toBe(404);
    });

    it('increments atomically, from 0 when missing, and refuses non-numbers', async () => {
      const kv = server.owner.kv;
      expect((await kv.increment('count/a')).value).toBe(1);
      expect((await kv.increment('count/a', 5)).value).toBe(6);
      expect((await kv.increment('count/a', -2)).value).toBe(4);
      await Promise.all(Array.from({ length: 10 }, () => kv.increment('count/b')));
      expect((await kv.get('count/b')).value).toBe(10);

      await kv.create({ key: 'count/text', value: 'nope' });
      const error = await failure(kv.increment('count/text'));
      expect(error).toMatchObject({ status: 409, code: 'NOT_A_NUMBER' });
      expect((await kv.get('count/text')).value).toBe('nope');
    });

    it('lists by prefix and tag, page by page', async () => {
      const kv = server.owner.kv;
      for (let i = 0; i < 5; i++) {
        await kv.create({ key: `list/item-${i}`, value: i, tags: i % 2 === 0 ? ['even'] : [] });
      }
      await kv.create({ key: 'listing-other', value: 0 });

      const first = await kv.list({ prefix: 'list/', limit: 2 });
      expect(first.items.map((e) => e.key)).toEqual(['list/item-0', 'list/item-1']);
      expect(first.nextCursor).toEqual(expect.any(String));
      const second = await kv.list({ prefix: 'list/', limit: 2, cursor: first.nextCursor ?? '' });
      expect(second.items.map((e) => e.key)).toEqual(['list/item-2', 'list/item-3']);

      const pages = await collect(kv.listAll({ prefix: 'list/', limit: 2 }));
      expect(pages.map((p) => p.items.length)).toEqual([2, 2, 1]);
      expect(pages.at(-1)?.nextCursor).toBeNull();

      const even = await kv.list({ prefix: 'list/', tag: 'even' });
      expect(even.items.map((e) => e.value)).toEqual([0, 2, 4]);
    });

    it('refuses bad input with VALIDATION_FAILED and field errors, writing nothing', async () => {
      const kv = server.owner.kv;
      const badKey = await failure(kv.create({ key: 'bad key!', value: 1 }));
      expect(badKey).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
      expect(badKey.errors?.some((e) => e.path === 'key')).toBe(true);
      const badTtl = await failure(kv.upsert({ key: 'bad/ttl', value: 1, ttlSeconds: -5 }));
      expect(badTtl.code).toBe('VALIDATION_FAILED');
      expect((await kv.list({ prefix: 'bad' })).items).toEqual([]);
      const badLimit = await failure(kv.list({ limit: 0 }));
      expect(badLimit).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    });

    it('hides an expired key at once (strict TTL)', async () => {
      const kv = server.owner.kv;
      await kv.upsert({ key: 'ttl/a', value: 1, ttlSeconds: 60 });
      server.clock.advance(61_000);
      expect((await failure(kv.get('ttl/a'))).code).toBe('NOT_FOUND');
    });

    it('exports as a stream and imports it back: round trip', async () => {
      const kv = server.owner.kv;
      const originals: KvEntry[] = [];
      for (let i = 0; i < 120; i++) {
        const key = `trip/k-${String(i).padStart(3, '0')}`;
        originals.push(
          await kv.upsert({ key, value: { i, text: 'é✓' }, tags: i % 3 === 0 ? ['third'] : [], ttlSeconds: 3600 }),
        );
      }
      const exported = await collect(kv.export({ prefix: 'trip/' }));
      expect(exported).toEqual(originals);
      expect((await collect(kv.export({ prefix: 'trip/', tag: 'third' }))).length).toBe(40);

      for (const entry of originals) await kv.delete(entry.key);
      const before = server.requests.length;
      expect(await kv.import(exported)).toEqual({ created: 120, updated: 0, skipped: 0 });
      expect(server.requests[before]?.headers.get('content-type')).toContain('application/x-ndjson');
      const restored = await collect(kv.export({ prefix: 'trip/' }));
      expect(restored.map(({ key, value, tags, expiresAt }) => ({ key, value, tags, expiresAt }))).toEqual(
        originals.map(({ key, value, tags, expiresAt }) => ({ key, value, tags, expiresAt })),
      );

      async function* twoLines(): AsyncGenerator<KvImportEntry> {
        yield { key: 'trip/k-000', value: 'replaced' };
        yield { key: 'trip/gone', value: 1, expiresAt: '2000-01-01T00:00:00.000Z' };
      }
      expect(await kv.import(twoLines())).toEqual({ created: 0, updated: 1, skipped: 1 });
      expect((await kv.get('trip/k-000')).value).toBe('replaced');
    });

    it('stops downloading when the export loop breaks early', async () => {
      for (let i = 0; i < 5; i++) await server.owner.kv.upsert({ key: `early/${i}`, value: i });
      const seen: string[] = [];
      for await (const entry of server.owner.kv.export({ prefix: 'early/' })) {
        seen.push(entry.key);
        if (seen.length === 2) break;
      }
      expect(seen).toEqual(['early/0', 'early/1']);
    });

    it('imports nothing when one line is invalid (atomic)', async () => {
      const kv = server.owner.kv;
      const error = await failure(
        kv.import([
          { key: 'atomic/ok', value: 1 },
          { key: 'atomic/bad key', value: 2 },
        ]),
      );
      expect(error).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
      expect((await kv.list({ prefix: 'atomic/' })).items).toEqual([]);
    });
  });
}
