import { SYSTEM_PRINCIPAL } from '@proserver/core';
import { testBackendNames } from '@proserver/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, expectProblem, type Harness } from './support/harness.js';

describe.each(testBackendNames())('doc-store over HTTP on %s', (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(backend);
  });
  afterAll(() => h.close());

  const put = (path: string, json: unknown, headers: Record<string, string> = {}) =>
    h.call('PUT', `/api/doc-store/docs/${path}`, { json, headers });

  it('PUT creates (201) then replaces (200); GET answers the document with ETag "<revision>"', async () => {
    const created = await put('projects/acme', { data: { name: 'Acme' } });
    expect(created.status).toBe(201);
    const doc = await created.json();
    expect(created.headers.get('etag')).toBe(`"${doc.revision}"`);
    expect(created.headers.get('location')).toBe('/api/doc-store/docs/projects/acme');
    expect(doc).toMatchObject({ path: 'projects/acme', id: 'acme', collection: 'projects', version: 1 });

    const replaced = await put('projects/acme', { data: { name: 'Acme 2' } }, { 'If-Match': `"${doc.revision}"` });
    expect(replaced.status).toBe(200);
    const next = await replaced.json();
    expect(next.version).toBe(2);

    const read = await h.call('GET', '/api/doc-store/docs/projects/acme');
    expect(read.headers.get('etag')).toBe(`"${next.revision}"`);
    expect(await read.json()).toEqual(next);
    const notModified = await h.call('GET', '/api/doc-store/docs/projects/acme', {
      headers: { 'If-None-Match': `"${next.revision}"` },
    });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get('etag')).toBe(`"${next.revision}"`);
  });

  it('412 on a stale If-Match (with the current revision), If-None-Match: * and a stale expectedVersion', async () => {
    const doc = await (await put('projects/cas', { data: { n: 1 } })).json();
    const stale = await put('projects/cas', { data: { n: 2 } }, { 'If-Match': `"${doc.revision + 100}"` });
    const problem = (await expectProblem(stale, 412, 'PRECONDITION_FAILED')) as unknown as { currentRevision: number };
    expect(problem.currentRevision).toBe(doc.revision);
    expect(stale.headers.get('etag')).toBe(`"${doc.revision}"`);
    await expectProblem(
      await put('projects/cas', { data: { n: 2 } }, { 'If-None-Match': '*' }),
      412,
      'PRECONDITION_FAILED',
    );
    await expectProblem(await put('projects/cas', { data: { n: 2 }, expectedVersion: 7 }), 412, 'PRECONDITION_FAILED');
    await expectProblem(
      await h.call('DELETE', '/api/doc-store/docs/projects/missing', { headers: { 'If-Match': '"3"' } }),
      412,
      'PRECONDITION_FAILED',
    );
    expect((await (await h.call('GET', '/api/doc-store/docs/projects/cas')).json()).data).toEqual({ n: 1 });
    const ok = await put('projects/cas', { data: { n: 3 }, expectedVersion: 1 }, { 'If-Match': `"${doc.revision}"` });
    expect(ok.status).toBe(200);
  });

  it('PATCH: merge patch and JSON patch by media type; a failing test op is 412', async () => {
    await put('projects/p', { data: { a: 1, b: { c: 2 } } });
    const merged = await h.call('PATCH', '/api/doc-store/docs/projects/p', {
      body: JSON.stringify({ b: { c: null, d: 3 } }),
      headers: { 'Content-Type': 'application/merge-patch+json' },
    });
    expect((await merged.json()).data).toEqual({ a: 1, b: { d: 3 } });
    const patched = await h.call('PATCH', '/api/doc-store/docs/projects/p', {
      body: JSON.stringify([
        { op: 'test', path: '/a', value: 1 },
        { op: 'replace', path: '/a', value: 2 },
      ]),
      headers: { 'Content-Type': 'application/json-patch+json' },
    });
    expect((await patched.json()).data).toEqual({ a: 2, b: { d: 3 } });
    const failing = await h.call('PATCH', '/api/doc-store/docs/projects/p', {
      body: JSON.stringify([{ op: 'test', path: '/a', value: 1 }]),
      headers: { 'Content-Type': 'application/json-patch+json' },
    });
    await expectProblem(failing, 412, 'PRECONDITION_FAILED');
    const wrongShape = await h.call('PATCH', '/api/doc-store/docs/projects/p', {
      body: '{"a":1}',
      headers: { 'Content-Type': 'application/json-patch+json' },
    });
    await expectProblem(wrongShape, 400, 'VALIDATION_FAILED');
    const textPatch = await h.call('PATCH', '/api/doc-store/docs/projects/p', {
      body: 'x',
      headers: { 'Content-Type': 'text/plain' },
    });
    await expectProblem(textPatch, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('POST to a collection creates with a server id; GET lists with ?where and ?orderBy', async () => {
    for (const n of [3, 1, 2]) {
      const res = await h.call('POST', '/api/doc-store/docs/projects/acme/builds', {
        json: { data: { n, ok: n !== 2 } },
      });
      expect(res.status).toBe(201);
      expect(res.headers.get('location')).toMatch(/^\/api\/doc-store\/docs\/projects\/acme\/builds\/[0-9A-Z]{22}$/);
    }
    const where = encodeURIComponent(JSON.stringify({ ok: true }));
    const list = await h.call(
      'GET',
      `/api/doc-store/docs/projects/acme/builds?where=${where}&orderBy=-n,path&select=n`,
    );
    const body = await list.json();
    expect(body.items.map((d: { data: unknown }) => d.data)).toEqual([{ n: 3 }, { n: 1 }]);
    expect(body.nextCursor).toBeNull();
    const paged = await (await h.call('GET', '/api/doc-store/docs/projects/acme/builds?orderBy=n&limit=2')).json();
    const rest = await (
      await h.call('GET', `/api/doc-store/docs/projects/acme/builds?orderBy=n&limit=2&cursor=${paged.nextCursor}`)
    ).json();
    expect([...paged.items, ...rest.items].map((d: { data: { n: number } }) => d.data.n)).toEqual([1, 2, 3]);
    const reused = await h.call(
      'GET',
      `/api/doc-store/docs/projects/acme/builds?orderBy=-n&cursor=${paged.nextCursor}`,
    );
    await expectProblem(reused, 400, 'VALIDATION_FAILED');
  });

  it('POST /query runs collection-group queries; POST /commit is atomic and names the failing index', async () => {
    const commit = await h.call('POST', '/api/doc-store/commit', {
      json: {
        writes: [
          { op: 'set', path: 'orgs/a/checks/1', data: { status: 'failed' } },
          { op: 'set', path: 'orgs/b/checks/1', data: { status: 'ok' } },
          { op: 'set', path: 'orgs/b/checks/2', data: { status: 'failed' } },
        ],
      },
    });
    const result = await commit.json();
    expect(result.results).toHaveLength(3);
    expect(result.revision).toBe(result.results[2].revision);
    const query = await h.call('POST', '/api/doc-store/query', {
      json: {
        from: { collection: 'checks', allDescendants: true },
        where: { status: 'failed' },
        orderBy: [{ field: 'path', direction: 'desc' }],
      },
    });
    expect((await query.json()).items.map((d: { path: string }) => d.path)).toEqual([
      'orgs/b/checks/2',
      'orgs/a/checks/1',
    ]);
    const failing = await h.call('POST', '/api/doc-store/commit', {
      json: {
        writes: [
          { op: 'set', path: 'orgs/c/checks/1', data: {} },
          { op: 'delete', path: 'orgs/a/checks/1', expect: { revision: 1 } },
        ],
      },
    });
    const problem = (await expectProblem(failing, 409, 'CONFLICT')) as unknown as { index: number; reason: string };
    expect(problem).toMatchObject({ index: 1, reason: 'PRECONDITION_FAILED' });
    await expectProblem(await h.call('GET', '/api/doc-store/docs/orgs/c/checks/1'), 404, 'NOT_FOUND');
  });

  it('history, collections, changes and recursive delete', async () => {
    // The feed's `after` is an event-log seq: number what was written so far, start after it.
    await h.core.events.flush();
    const start = (await h.core.docs.changes(SYSTEM_PRINCIPAL, { collection: 'none' })).nextAfter;
    const first = await (await put('hist/a', { data: { v: 1 } })).json();
    await put('hist/a', { data: { v: 2 } });
    await put('hist/a/sub/x', { data: {} });
    const history = await (await h.call('GET', '/api/doc-store/history/hist/a')).json();
    expect(history.items.map((e: { version: number }) => e.version)).toEqual([2, 1]);
    const v1 = await (await h.call('GET', '/api/doc-store/history/hist/a?version=1')).json();
    expect(v1).toMatchObject({ version: 1, revision: first.revision, data: { v: 1 } });
    expect((await (await h.call('GET', '/api/doc-store/collections/hist/a')).json()).items).toEqual([
      { id: 'sub', path: 'hist/a/sub' },
    ]);
    const root = await (await h.call('GET', '/api/doc-store/collections')).json();
    expect(root.items.map((c: { id: string }) => c.id)).toContain('hist');
    await h.core.events.flush();
    const changes = await (await h.call('GET', `/api/doc-store/changes?after=${start}&parent=hist`)).json();
    expect(changes.items.map((c: { op: string }) => c.op)).toEqual(['create', 'update', 'create']);
    expect(changes.items[0]).toMatchObject({ path: 'hist/a', revision: first.revision, version: 1 });
    expect(changes.items[0].seq).toBeGreaterThan(start);
    const rest = await (
      await h.call('GET', `/api/doc-store/changes?after=${changes.items[0].seq}&parent=hist&limit=1`)
    ).json();
    expect(rest).toEqual({ items: [changes.items[1]], nextAfter: changes.items[1].seq });
    const removed = await h.call('DELETE', '/api/doc-store/docs/hist/a?recursive=true');
    expect(await removed.json()).toMatchObject({ path: 'hist/a', deleted: 2 });
    await expectProblem(await h.call('GET', '/api/doc-store/docs/hist/a/sub/x'), 404, 'NOT_FOUND');
  });

  it('scopes narrowed by path pattern hold on every route, including inside queries', async () => {
    await put('tenants/acme/runs/1', { data: { status: 'failed' } });
    await put('tenants/zed/runs/1', { data: { status: 'failed' } });
    const token = await h.tokenWith(['docs:read:tenants/acme/**', 'docs:write:tenants/acme/**']);
    const query = await h.call('POST', '/api/doc-store/query', {
      token,
      json: { from: { collection: 'runs', allDescendants: true } },
    });
    expect((await query.json()).items.map((d: { path: string }) => d.path)).toEqual(['tenants/acme/runs/1']);
    await expectProblem(await h.call('GET', '/api/doc-store/docs/tenants/zed/runs/1', { token }), 403, 'FORBIDDEN');
    await expectProblem(
      await h.call('PUT', '/api/doc-store/docs/tenants/zed/runs/2', { token, json: { data: {} } }),
      403,
      'FORBIDDEN',
    );
    const noDocs = await h.tokenWith(['kv:read']);
    await expectProblem(await h.call('GET', '/api/doc-store/changes', { token: noDocs }), 403, 'FORBIDDEN');
  });
});
