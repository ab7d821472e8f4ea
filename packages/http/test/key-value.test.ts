import { createCore } from '@proserver/core';
import { createTestStorage, testBackendNames } from '@proserver/core/testing';
import { createApp } from '@proserver/http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allEntries, createHarness, expectProblem, type Harness } from './support/harness.js';

describe.each(testBackendNames())('key-value routes on %s', (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(backend);
  });
  afterAll(() => h.close());

  it('creates an entry: 201, ETag, Location, entry body', async () => {
    const res = await h.call('POST', '/api/key-value', {
      json: { key: 'create/a', value: { n: 1 }, ttlSeconds: 60, tags: ['x'] },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('etag')).toBe('"1"');
    expect(res.headers.get('location')).toBe('/api/key-value/create/a');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const entry = await res.json();
    expect(entry).toMatchObject({ key: 'create/a', value: { n: 1 }, version: 1, tags: ['x'] });
    expect(entry.expiresAt).toBe('2026-03-01T12:01:00.000Z');
    expect((await h.core.kv.get('create/a')).value).toEqual({ n: 1 });
  });

  it('refuses to create an existing key with 409 ALREADY_EXISTS, value unchanged', async () => {
    await h.core.kv.create({ key: 'create/dup', value: 'first' });
    const res = await h.call('POST', '/api/key-value', { json: { key: 'create/dup', value: 'second' } });
    await expectProblem(res, 409, 'ALREADY_EXISTS');
    expect((await h.core.kv.get('create/dup')).value).toBe('first');
  });

  it('upserts: creates then replaces, 200 with ETag', async () => {
    const first = await h.call('POST', '/api/key-value/upsert', { json: { key: 'up/a', value: 1 } });
    expect(first.status).toBe(200);
    expect(first.headers.get('etag')).toBe('"1"');
    const second = await h.call('POST', '/api/key-value/upsert', { json: { key: 'up/a', value: 2, tags: ['t'] } });
    expect(second.status).toBe(200);
    expect(second.headers.get('etag')).toBe('"2"');
    expect(await second.json()).toMatchObject({ key: 'up/a', value: 2, version: 2, tags: ['t'] });
  });

  it('reads an entry with its ETag; 304 when If-None-Match matches', async () => {
    await h.core.kv.create({ key: 'read/a', value: [1, 2] });
    const res = await h.call('GET', '/api/key-value/read/a');
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"1"');
    expect(await res.json()).toMatchObject({ key: 'read/a', value: [1, 2], version: 1 });

    for (const tag of ['"1"', 'W/"1"', '*']) {
      const cached = await h.call('GET', '/api/key-value/read/a', { headers: { 'If-None-Match': tag } });
      expect(cached.status).toBe(304);
      expect(cached.headers.get('etag')).toBe('"1"');
      expect(await cached.text()).toBe('');
    }
    const changed = await h.call('GET', '/api/key-value/read/a', { headers: { 'If-None-Match': '"7"' } });
    expect(changed.status).toBe(200);
  });

  it('answers HEAD like GET without a body', async () => {
    await h.core.kv.create({ key: 'read/head', value: 'x' });
    const res = await h.call('HEAD', '/api/key-value/read/head');
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"1"');
    expect(await res.text()).toBe('');
  });

  it('decodes percent-encoded keys and keeps slashes', async () => {
    await h.core.kv.create({ key: 'enc/a:b@c/d', value: true });
    const res = await h.call('GET', '/api/key-value/enc%2Fa%3Ab%40c%2Fd');
    expect(res.status).toBe(200);
    expect((await res.json()).key).toBe('enc/a:b@c/d');
  });

  it('404s a missing key and an expired one', async () => {
    await expectProblem(await h.call('GET', '/api/key-value/missing/x'), 404, 'NOT_FOUND');
    await h.core.kv.create({ key: 'ttl/a', value: 1, ttlSeconds: 10 });
    expect((await h.call('GET', '/api/key-value/ttl/a')).status).toBe(200);
    h.clock.advance(10_000);
    await expectProblem(await h.call('GET', '/api/key-value/ttl/a'), 404, 'NOT_FOUND');
  });

  it('updates with PUT; If-Match does compare-and-swap', async () => {
    await h.core.kv.create({ key: 'put/a', value: 1, tags: ['keep'] });
    const plain = await h.call('PUT', '/api/key-value/put/a', { json: { value: 2 } });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('etag')).toBe('"2"');
    expect(await plain.json()).toMatchObject({ value: 2, version: 2, tags: ['keep'] });

    const cas = await h.call('PUT', '/api/key-value/put/a', {
      json: { value: 3 },
      headers: { 'If-Match': '"2"' },
    });
    expect(cas.status).toBe(200);
    expect(await cas.json()).toMatchObject({ value: 3, version: 3 });

    const weak = await h.call('PUT', '/api/key-value/put/a', { json: { value: 4 }, headers: { 'If-Match': 'W/"3"' } });
    expect(weak.status).toBe(200);
    const any = await h.call('PUT', '/api/key-value/put/a', { json: { value: 5 }, headers: { 'If-Match': '*' } });
    expect(any.status).toBe(200);
    expect((await h.core.kv.get('put/a')).value).toBe(5);
  });

  it('412s a stale If-Match and leaves the value unchanged', async () => {
    await h.core.kv.create({ key: 'put/stale', value: 'v1' });
    await h.core.kv.update('put/stale', { value: 'v2' });
    const res = await h.call('PUT', '/api/key-value/put/stale', {
      json: { value: 'lost' },
      headers: { 'If-Match': '"1"' },
    });
    await expectProblem(res, 412, 'PRECONDITION_FAILED');
    const entry = await h.core.kv.get('put/stale');
    expect(entry).toMatchObject({ value: 'v2', version: 2 });
  });

  it('PUT on a missing key: 404 without If-Match, 412 with If-Match (nothing created)', async () => {
    await expectProblem(await h.call('PUT', '/api/key-value/put/none', { json: { value: 1 } }), 404, 'NOT_FOUND');
    for (const tag of ['*', '"1"']) {
      const res = await h.call('PUT', '/api/key-value/put/none', { json: { value: 1 }, headers: { 'If-Match': tag } });
      await expectProblem(res, 412, 'PRECONDITION_FAILED');
    }
    await expect(h.core.kv.get('put/none')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('deletes with 204; a stale If-Match is 412 and keeps the entry', async () => {
    await h.core.kv.create({ key: 'del/a', value: 1 });
    await expectProblem(
      await h.call('DELETE', '/api/key-value/del/a', { headers: { 'If-Match': '"9"' } }),
      412,
      'PRECONDITION_FAILED',
    );
    expect((await h.core.kv.get('del/a')).value).toBe(1);
    const res = await h.call('DELETE', '/api/key-value/del/a', { headers: { 'If-Match': '"1"' } });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    await expect(h.core.kv.get('del/a')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expectProblem(await h.call('DELETE', '/api/key-value/del/a'), 404, 'NOT_FOUND');
  });

  it('increments: creates at 0, adds `by`, works without a body; 409 on a non-number', async () => {
    const first = await h.call('POST', '/api/key-value/inc/builds/increment');
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ key: 'inc/builds', value: 1, version: 1 });
    const second = await h.call('POST', '/api/key-value/inc/builds/increment', { json: { by: 41 } });
    expect(await second.json()).toMatchObject({ value: 42, version: 2 });
    expect(second.headers.get('etag')).toBe('"2"');

    await h.core.kv.create({ key: 'inc/text', value: 'abc' });
    await expectProblem(
      await h.call('POST', '/api/key-value/inc/text/increment', { json: { by: 1 } }),
      409,
      'NOT_A_NUMBER',
    );
    expect((await h.core.kv.get('inc/text')).value).toBe('abc');
  });

  it('keys named like the special routes are still keys for GET/PUT/DELETE', async () => {
    await h.core.kv.create({ key: 'upsert', value: 'u' });
    await h.core.kv.create({ key: 'x/increment', value: 'i' });
    expect((await (await h.call('GET', '/api/key-value/upsert')).json()).value).toBe('u');
    expect((await (await h.call('GET', '/api/key-value/x/increment')).json()).value).toBe('i');
    // A percent-encoded slash is part of the key, so this is a POST on a key: 405.
    const res = await h.call('POST', '/api/key-value/x%2Fincrement', { json: { by: 1 } });
    await expectProblem(res, 405, 'METHOD_NOT_ALLOWED');
    expect(res.headers.get('allow')).toBe('GET, HEAD, PUT, DELETE');
  });

  it('405s unsupported methods with an Allow header', async () => {
    const onKey = await h.call('PATCH', '/api/key-value/some/key', { json: { value: 1 } });
    await expectProblem(onKey, 405, 'METHOD_NOT_ALLOWED');
    expect(onKey.headers.get('allow')).toBe('GET, HEAD, PUT, DELETE');
    const onCollection = await h.call('DELETE', '/api/key-value');
    await expectProblem(onCollection, 405, 'METHOD_NOT_ALLOWED');
    expect(onCollection.headers.get('allow')).toBe('GET, HEAD, POST');
    await expect(h.core.kv.get('some/key')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('lists by prefix and tag with cursor pagination', async () => {
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      await h.core.kv.create({ key: `list/${name}`, value: name, tags: name === 'c' ? ['special'] : [] });
    }
    const keys: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query = new URLSearchParams({ prefix: 'list/', limit: '2', ...(cursor ? { cursor } : {}) });
      const res = await h.call('GET', `/api/key-value?${query}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as { items: { key: string }[]; nextCursor: string | null };
      keys.push(...page.items.map((item) => item.key));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(keys).toEqual(['list/a', 'list/b', 'list/c', 'list/d', 'list/e']);

    const tagged = await (await h.call('GET', '/api/key-value?prefix=list/&tag=special')).json();
    expect(tagged.items.map((item: { key: string }) => item.key)).toEqual(['list/c']);
  });

  it('exports NDJSON and imports it into a fresh app with the same entries', async () => {
    await h.core.kv.create({ key: 'xfer/a', value: { deep: [1, { x: null }] }, tags: ['one', 'two'] });
    await h.core.kv.create({ key: 'xfer/b', value: 'text', ttlSeconds: 3600 });
    await h.core.kv.create({ key: 'xfer/c/d', value: 3.5 });
    const exported = await h.call('GET', '/api/key-value?prefix=xfer/', {
      headers: { Accept: 'application/x-ndjson' },
    });
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toBe('application/x-ndjson');
    const ndjson = await exported.text();
    const lines = ndjson.trimEnd().split('\n');
    expect(lines.map((line) => JSON.parse(line).key)).toEqual(['xfer/a', 'xfer/b', 'xfer/c/d']);

    const target = createCore({
      storage: await createTestStorage(backend),
      clock: h.clock,
      kv: { sweepIntervalMs: 0 },
    });
    try {
      const boot = await target.auth.bootstrap();
      const imported = await createApp(target).request('/api/key-value/import', {
        method: 'POST',
        headers: { Authorization: `Bearer ${boot.secret}`, 'Content-Type': 'application/x-ndjson' },
        body: ndjson,
      });
      expect(imported.status).toBe(200);
      expect(await imported.json()).toEqual({ created: 3, updated: 0, skipped: 0 });
      const strip = (items: { key: string; value: unknown; tags?: unknown; expiresAt?: unknown }[]) =>
        items.map(({ key, value, tags, expiresAt }) => ({ key, value, tags, expiresAt }));
      const source = (await allEntries(h.core)).filter((entry) => entry.key.startsWith('xfer/'));
      expect(strip(await allEntries(target))).toEqual(strip(source));
    } finally {
      await target.close();
    }
  });

  it('imports with blank lines and CRLF, reporting created/updated/skipped', async () => {
    await h.core.kv.create({ key: 'imp/existing', value: 0 });
    const body = [
      JSON.stringify({ key: 'imp/new', value: 1 }),
      '',
      JSON.stringify({ key: 'imp/existing', value: 2, version: 9 }),
      JSON.stringify({ key: 'imp/old', value: 3, expiresAt: '2020-01-01T00:00:00.000Z' }),
    ].join('\r\n');
    const res = await h.call('POST', '/api/key-value/import', {
      body,
      headers: { 'Content-Type': 'application/x-ndjson; charset=utf-8' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ created: 1, updated: 1, skipped: 1 });
    expect((await h.core.kv.get('imp/existing')).value).toBe(2);
    await expect(h.core.kv.get('imp/old')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
