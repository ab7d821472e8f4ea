/**
 * Every bad key-value request gets a clear 4xx problem (never a 5xx) and writes nothing:
 * each test reads the store back through core.
 */
import { testBackendNames } from '@proserver/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allEntries, createHarness, expectProblem, type Harness, streamOf } from './support/harness.js';

describe.each(testBackendNames())('key-value bad input on %s', (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(backend, { app: { maxBodyBytes: 1024 * 1024 } });
  });
  afterAll(() => h.close());

  const expectNothingUnder = async (prefix: string) => {
    const entries = await allEntries(h.core);
    expect(entries.filter((entry) => entry.key.startsWith(prefix))).toEqual([]);
  };

  it('malformed JSON → 400 MALFORMED_JSON', async () => {
    for (const body of ['{"key":"bad/json","value":', 'not json', '', '{"key":"bad/json","value":1}}']) {
      const res = await h.call('POST', '/api/key-value', { body, headers: { 'Content-Type': 'application/json' } });
      await expectProblem(res, 400, 'MALFORMED_JSON');
    }
    await expectNothingUnder('bad/');
  });

  it('invalid UTF-8 → 400 MALFORMED_JSON', async () => {
    const bytes = new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    const res = await h.call('POST', '/api/key-value', {
      body: bytes,
      headers: { 'Content-Type': 'application/json' },
    });
    await expectProblem(res, 400, 'MALFORMED_JSON');
  });

  it('wrong types and unknown fields → 400 VALIDATION_FAILED listing the fields', async () => {
    const cases: [unknown, string][] = [
      [{ key: 42, value: 1 }, 'key'],
      [{ key: 'bad/types', value: 1, tags: 'x' }, 'tags'],
      [{ key: 'bad/types', value: 1, ttlSeconds: '60' }, 'ttlSeconds'],
      [{ key: 'bad/types', value: 1, extra: true }, ''],
      [{ key: 'bad/types' }, 'value'],
      [[{ key: 'bad/types', value: 1 }], ''],
      ['just a string', ''],
    ];
    for (const [json, path] of cases) {
      const body = await expectProblem(await h.call('POST', '/api/key-value', { json }), 400, 'VALIDATION_FAILED');
      expect(body.errors?.map((error) => error.path)).toContain(path);
    }
    const update = await h.call('POST', '/api/key-value/upsert', { json: { key: 'bad/types', value: 1, version: 3 } });
    await expectProblem(update, 400, 'VALIDATION_FAILED');
    await expectNothingUnder('bad/');
  });

  it('PUT with unknown fields or wrong types → 400, value unchanged', async () => {
    await h.core.kv.create({ key: 'badput/a', value: 'orig' });
    for (const json of [{ value: 1, key: 'other' }, { value: 1, tags: [1] }, { value: 1, ttlSeconds: 1.5 }, {}]) {
      await expectProblem(await h.call('PUT', '/api/key-value/badput/a', { json }), 400, 'VALIDATION_FAILED');
    }
    expect(await h.core.kv.get('badput/a')).toMatchObject({ value: 'orig', version: 1 });
  });

  it('unknown or missing content type → 415', async () => {
    const json = JSON.stringify({ key: 'bad/ct', value: 1 });
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1']) {
      const res = await h.call('POST', '/api/key-value', { body: json, headers: { 'Content-Type': contentType } });
      await expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    }
    const bare = await h.app.request('/api/key-value', {
      method: 'POST',
      headers: { Authorization: `Bearer ${h.owner}` },
      body: new Blob([json]),
    });
    await expectProblem(bare, 415, 'UNSUPPORTED_MEDIA_TYPE');
    const charset = await h.call('POST', '/api/key-value', {
      body: json,
      headers: { 'Content-Type': 'application/json; charset=UTF-8' },
    });
    expect(charset.status).toBe(201);
    await h.core.kv.delete('bad/ct');
    await expectNothingUnder('bad/');
  });

  it('body over the limit → 413, with and without Content-Length, and when it lies', async () => {
    const big = JSON.stringify({ key: 'bad/big', value: 'x'.repeat(1024 * 1024) });
    const withLength = await h.call('POST', '/api/key-value', { json: JSON.parse(big) });
    await expectProblem(withLength, 413, 'PAYLOAD_TOO_LARGE');
    const chunked = await h.call('POST', '/api/key-value', {
      body: streamOf(big),
      headers: { 'Content-Type': 'application/json' },
    });
    await expectProblem(chunked, 413, 'PAYLOAD_TOO_LARGE');
    const lying = await h.call('POST', '/api/key-value', {
      body: streamOf(big),
      headers: { 'Content-Type': 'application/json', 'Content-Length': '20' },
    });
    await expectProblem(lying, 413, 'PAYLOAD_TOO_LARGE');
    await expectNothingUnder('bad/');
  });

  it("a value over core's 256 KiB → 413 from core", async () => {
    const res = await h.call('POST', '/api/key-value', { json: { key: 'bad/value', value: 'x'.repeat(300 * 1024) } });
    await expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
    await expectNothingUnder('bad/');
  });

  it('bad keys → 400: 513 characters, invalid characters, bad percent-encoding, empty', async () => {
    const before = await allEntries(h.core);
    const long = 'k'.repeat(513);
    await expectProblem(
      await h.call('POST', '/api/key-value', { json: { key: long, value: 1 } }),
      400,
      'VALIDATION_FAILED',
    );
    await expectProblem(
      await h.call('PUT', `/api/key-value/${long}`, { json: { value: 1 } }),
      400,
      'VALIDATION_FAILED',
    );
    await expectProblem(await h.call('GET', `/api/key-value/${long}`), 400, 'VALIDATION_FAILED');
    for (const key of ['with space', 'semi;colon', 'ünïcode', 'a?b', 'new\nline']) {
      await expectProblem(
        await h.call('POST', '/api/key-value', { json: { key, value: 1 } }),
        400,
        'VALIDATION_FAILED',
      );
    }
    for (const raw of ['with%20space', 'a%3Bb', '%C3%BC']) {
      const body = await expectProblem(await h.call('GET', `/api/key-value/${raw}`), 400, 'VALIDATION_FAILED');
      expect(body.errors?.[0]?.path).toBe('key');
    }
    for (const raw of ['%E0%A4%A', '%ZZ', 'a%']) {
      await expectProblem(
        await h.call('PUT', `/api/key-value/${raw}`, { json: { value: 1 } }),
        400,
        'VALIDATION_FAILED',
      );
      await expectProblem(await h.call('POST', `/api/key-value/${raw}/increment`), 400, 'VALIDATION_FAILED');
    }
    await expectProblem(await h.call('GET', '/api/key-value/'), 400, 'VALIDATION_FAILED');
    expect(await allEntries(h.core)).toEqual(before);
  });

  it('bad ttlSeconds → 400: negative, zero, fractional, absurd', async () => {
    for (const ttlSeconds of [-1, 0, 0.5, 1e12, Number.MAX_SAFE_INTEGER]) {
      const res = await h.call('POST', '/api/key-value', { json: { key: 'bad/ttl', value: 1, ttlSeconds } });
      const body = await expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(body.errors?.[0]?.path).toBe('ttlSeconds');
    }
    await expectNothingUnder('bad/');
  });

  it('bad If-Match / If-None-Match → 400, nothing changed', async () => {
    await h.core.kv.create({ key: 'badif/a', value: 1 });
    for (const tag of ['1', '"abc"', '"1", "2"', 'W/1', '"-1"', '"0"']) {
      const put = await h.call('PUT', '/api/key-value/badif/a', { json: { value: 2 }, headers: { 'If-Match': tag } });
      await expectProblem(put, 400, 'VALIDATION_FAILED');
      const del = await h.call('DELETE', '/api/key-value/badif/a', { headers: { 'If-Match': tag } });
      await expectProblem(del, 400, 'VALIDATION_FAILED');
      const get = await h.call('GET', '/api/key-value/badif/a', { headers: { 'If-None-Match': tag } });
      await expectProblem(get, 400, 'VALIDATION_FAILED');
    }
    expect(await h.core.kv.get('badif/a')).toMatchObject({ value: 1, version: 1 });
  });

  it('bad increment bodies → 400, nothing created', async () => {
    for (const json of [{ by: '1' }, { by: 1, extra: 1 }, [1]]) {
      await expectProblem(await h.call('POST', '/api/key-value/bad/inc/increment', { json }), 400, 'VALIDATION_FAILED');
    }
    await expectNothingUnder('bad/');
  });

  it('bad list query strings → 400', async () => {
    for (const query of [
      'limit=abc',
      'limit=0',
      'limit=1001',
      'limit=-5',
      'limit=1.5',
      'cursor=',
      'cursor=garbage',
      'prefix=a%20b',
      'unknown=1',
      'limit=1&limit=2',
      'tag=a/b',
    ]) {
      await expectProblem(await h.call('GET', `/api/key-value?${query}`), 400, 'VALIDATION_FAILED');
    }
    const exportWithLimit = await h.call('GET', '/api/key-value?limit=5', {
      headers: { Accept: 'application/x-ndjson' },
    });
    await expectProblem(exportWithLimit, 400, 'VALIDATION_FAILED');
  });

  it('import with one bad line → 400 naming the line, nothing written', async () => {
    const body = [
      JSON.stringify({ key: 'badimp/a', value: 1 }),
      JSON.stringify({ key: 'badimp/b', value: 2 }),
      '{"key":"badimp/c",',
    ].join('\n');
    const res = await h.call('POST', '/api/key-value/import', {
      body,
      headers: { 'Content-Type': 'application/x-ndjson' },
    });
    const problem = await expectProblem(res, 400, 'MALFORMED_JSON');
    expect(problem.detail).toContain('line 3');
    const invalid = [JSON.stringify({ key: 'badimp/a', value: 1 }), JSON.stringify({ key: 'bad key', value: 2 })];
    const res2 = await h.call('POST', '/api/key-value/import', {
      body: invalid.join('\n'),
      headers: { 'Content-Type': 'application/x-ndjson' },
    });
    const problem2 = await expectProblem(res2, 400, 'VALIDATION_FAILED');
    expect(problem2.errors?.[0]?.path).toBe('1.key');
    const json = await h.call('POST', '/api/key-value/import', { json: { key: 'badimp/a', value: 1 } });
    await expectProblem(json, 415, 'UNSUPPORTED_MEDIA_TYPE');
    await expectNothingUnder('badimp/');
  });

  it('import over its own limit → 413, nothing written', async () => {
    const small = await createHarness('memory', { app: { maxImportBytes: 1024 } });
    try {
      const line = `${JSON.stringify({ key: 'big/a', value: 'x'.repeat(200) })}\n`;
      const res = await small.call('POST', '/api/key-value/import', {
        body: streamOf(line.repeat(10), 100),
        headers: { 'Content-Type': 'application/x-ndjson' },
      });
      await expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
      expect(await allEntries(small.core)).toEqual([]);
    } finally {
      await small.close();
    }
  });
});
