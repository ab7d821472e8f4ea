/**
 * Every bad document-store request gets a clear 4xx problem (never a 5xx) and writes
 * nothing: each test checks the change feed is unchanged afterwards.
 */
import { SYSTEM_PRINCIPAL } from '@proserver/core';
import { testBackendNames } from '@proserver/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, expectProblem, type Harness } from './support/harness.js';

describe.each(testBackendNames())('doc-store bad input on %s', (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(backend, { app: { maxBodyBytes: 2 * 1024 * 1024 } });
  });
  afterAll(() => h.close());

  const nothingWritten = async (send: () => Promise<Response>, status: number, code: string) => {
    // Nothing written: no document change follows the feed's end once every event is numbered.
    await h.core.events.flush();
    const before = (await h.core.docs.changes(SYSTEM_PRINCIPAL, { collection: 'none' })).nextAfter;
    const body = await expectProblem(await send(), status, code);
    await h.core.events.flush();
    expect((await h.core.docs.changes(SYSTEM_PRINCIPAL, { after: before })).items).toEqual([]);
    return body;
  };

  it('invalid paths → 400', async () => {
    for (const path of [
      'bad/a%2Fb',
      'bad/a%20b',
      'bad//x',
      'bad/a/',
      'bad/%E0%A4%A',
      'a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r',
    ]) {
      await nothingWritten(
        () => h.call('PUT', `/api/doc-store/docs/${path}`, { json: { data: {} } }),
        400,
        'VALIDATION_FAILED',
      );
    }
    // A collection path cannot be PUT; a document path cannot be POSTed to.
    await nothingWritten(
      () => h.call('PUT', '/api/doc-store/docs/bad', { json: { data: {} } }),
      405,
      'METHOD_NOT_ALLOWED',
    );
    await nothingWritten(
      () => h.call('POST', '/api/doc-store/docs/bad/a', { json: { data: {} } }),
      405,
      'METHOD_NOT_ALLOWED',
    );
  });

  it('non-object, oversized and malformed bodies → 4xx', async () => {
    for (const json of [
      { data: [1] },
      { data: 'x' },
      { data: null },
      {},
      { data: {}, extra: 1 },
      { data: {}, expectedVersion: 0 },
    ]) {
      await nothingWritten(() => h.call('PUT', '/api/doc-store/docs/bad/a', { json }), 400, 'VALIDATION_FAILED');
    }
    await nothingWritten(
      () =>
        h.call('PUT', '/api/doc-store/docs/bad/a', {
          body: '{"data":',
          headers: { 'Content-Type': 'application/json' },
        }),
      400,
      'MALFORMED_JSON',
    );
    await nothingWritten(
      () => h.call('PUT', '/api/doc-store/docs/bad/a', { json: { data: { blob: 'x'.repeat(1024 * 1024) } } }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
  });

  it('conflicting or malformed preconditions → 400', async () => {
    const headers: Record<string, string>[] = [
      { 'If-Match': '"1"', 'If-None-Match': '*' },
      { 'If-None-Match': '"4"' },
      { 'If-Match': 'nope' },
    ];
    for (const h2 of headers) {
      await nothingWritten(
        () => h.call('PUT', '/api/doc-store/docs/bad/a', { json: { data: {} }, headers: h2 }),
        400,
        'VALIDATION_FAILED',
      );
    }
    await nothingWritten(
      () =>
        h.call('PUT', '/api/doc-store/docs/bad/a', {
          json: { data: {}, expectedVersion: 2 },
          headers: { 'If-None-Match': '*' },
        }),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('malformed filters, unsupported operators, long $in, deep nesting, bad cursors → 400', async () => {
    const deep = JSON.stringify({
      $not: { $not: { $not: { $not: { $not: { $not: { $not: { $not: { a: 1 } } } } } } } },
    });
    const cases = [
      'where=%7Bnot-json',
      `where=${encodeURIComponent('{"a":{"$regex":"x"}}')}`,
      `where=${encodeURIComponent(JSON.stringify({ a: { $in: Array.from({ length: 101 }, (_, i) => i) } }))}`,
      `where=${encodeURIComponent(deep)}`,
      'orderBy=a..b',
      'cursor=garbage',
      'limit=0',
      'unknown=1',
    ];
    for (const query of cases) {
      const res = await h.call('GET', `/api/doc-store/docs/bad?${query}`);
      expect(res.status).toBe(400);
      await res.body?.cancel();
    }
    await nothingWritten(
      () => h.call('POST', '/api/doc-store/query', { json: { from: { collection: 'bad' }, where: { $where: 1 } } }),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('bad commits → 400, nothing written', async () => {
    for (const writes of [
      [],
      [{ op: 'set', path: 'bad', data: {} }],
      [{ op: 'set', path: 'bad/a', data: {}, expect: { exists: false, revision: 2 } }],
    ]) {
      await nothingWritten(
        () => h.call('POST', '/api/doc-store/commit', { json: { writes } }),
        400,
        'VALIDATION_FAILED',
      );
    }
  });
});
