/**
 * Authentication and scope checks in front of the routes: every failure is a 401/403
 * problem, and a refused request writes nothing.
 */
import { SYSTEM_PRINCIPAL } from '@proserver/core';
import { testBackendNames } from '@proserver/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allEntries, createHarness, expectProblem, type Harness } from './support/harness.js';

const WITH_ERROR = 'Bearer realm="proserver", error="invalid_token"';

describe.each(testBackendNames())('authentication and scopes on %s', (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(backend);
    await h.core.kv.create({ key: 'a/x', value: 'ax' });
    await h.core.kv.create({ key: 'a/y', value: 'ay' });
    await h.core.kv.create({ key: 'b/x', value: 'bx' });
  });
  afterAll(() => h.close());

  const write = (token: string | null, key = 'auth/new') =>
    h.call('POST', '/api/key-value', { token, json: { key, value: 1 } });

  it('missing token → 401 with a bare Bearer challenge, nothing written', async () => {
    const res = await write(null);
    await expectProblem(res, 401, 'UNAUTHENTICATED');
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="proserver"');
    await expect(h.core.kv.get('auth/new')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('wrong scheme, unknown token and garbled token → 401 invalid_token, nothing written', async () => {
    const valid = await h.tokenWith(['kv:write']);
    const garbled = `${valid.slice(0, -1)}${valid.endsWith('A') ? 'B' : 'A'}`;
    const unknown = 'prs_000000000000000000000000000000000000';
    for (const authorization of [`Basic ${valid}`, 'Bearer', `Bearer ${garbled}`, `Bearer ${unknown}`, 'Bearer x']) {
      const res = await h.call('POST', '/api/key-value', {
        token: null,
        headers: { Authorization: authorization },
        json: { key: 'auth/new', value: 1 },
      });
      await expectProblem(res, 401, 'UNAUTHENTICATED');
      expect(res.headers.get('www-authenticate')).toBe(WITH_ERROR);
    }
    await expect(h.core.kv.get('auth/new')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('accepts a lower-case bearer scheme', async () => {
    const res = await h.call('GET', '/api/key-value/a/x', {
      token: null,
      headers: { Authorization: `bearer ${h.owner}` },
    });
    expect(res.status).toBe(200);
  });

  it('expired token → 401 TOKEN_EXPIRED (ManualClock), nothing written', async () => {
    const token = await h.tokenWith(['kv:write'], 1);
    expect((await write(token, 'auth/expiring')).status).toBe(201);
    await h.core.kv.delete('auth/expiring');
    h.clock.advance(24 * 3600 * 1000);
    const res = await write(token, 'auth/expiring');
    await expectProblem(res, 401, 'TOKEN_EXPIRED');
    expect(res.headers.get('www-authenticate')).toBe(WITH_ERROR);
    await expect(h.core.kv.get('auth/expiring')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('revoked token → 401, nothing written', async () => {
    const { token: issued, secret: token } = await h.core.tokens.create(SYSTEM_PRINCIPAL, {
      name: 'to revoke',
      expiresInDays: 30,
      scopes: ['kv:write'],
    });
    expect((await write(token, 'auth/revoked')).status).toBe(201);
    await h.core.kv.delete('auth/revoked');
    await h.core.tokens.revoke(SYSTEM_PRINCIPAL, issued.id);
    await expectProblem(await write(token, 'auth/revoked'), 401, 'UNAUTHENTICATED');
    await expect(h.core.kv.get('auth/revoked')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a token without the needed scope → 403 naming the scope, nothing written', async () => {
    const reader = await h.tokenWith(['kv:read']);
    const res = await write(reader, 'auth/forbidden');
    const body = await expectProblem(res, 403, 'FORBIDDEN');
    expect(body.detail).toContain('kv:write:auth/forbidden');
    for (const [method, path] of [
      ['PUT', '/api/key-value/a/x'],
      ['DELETE', '/api/key-value/a/x'],
      ['POST', '/api/key-value/a/x/increment'],
      ['POST', '/api/key-value/upsert'],
    ] as const) {
      const denied = await h.call(method, path, {
        token: reader,
        json:
          method === 'POST' && path.endsWith('upsert')
            ? { key: 'a/x', value: 9 }
            : method === 'PUT'
              ? { value: 9 }
              : undefined,
      });
      const problem = await expectProblem(denied, 403, 'FORBIDDEN');
      expect(problem.detail).toContain('kv:write');
    }
    expect(await h.core.kv.get('a/x')).toMatchObject({ value: 'ax', version: 1 });
    const writer = await h.tokenWith(['kv:write']);
    const read = await expectProblem(await h.call('GET', '/api/key-value/a/x', { token: writer }), 403, 'FORBIDDEN');
    expect(read.detail).toContain('kv:read:a/x');
    await expectProblem(await h.call('GET', '/api/key-value', { token: writer }), 403, 'FORBIDDEN');
    const tokens = await expectProblem(
      await h.call('GET', '/api/application-tokens', { token: writer }),
      403,
      'FORBIDDEN',
    );
    expect(tokens.detail).toContain('tokens:write');
  });

  it('kv:read:a/* never reads b/x: not by GET, list or export', async () => {
    const token = await h.tokenWith(['kv:read:a/*']);
    expect((await h.call('GET', '/api/key-value/a/x', { token })).status).toBe(200);
    await expectProblem(await h.call('GET', '/api/key-value/b/x', { token }), 403, 'FORBIDDEN');
    const list = await (await h.call('GET', '/api/key-value', { token })).json();
    expect(list.items.map((item: { key: string }) => item.key)).toEqual(['a/x', 'a/y']);
    const listB = await (await h.call('GET', '/api/key-value?prefix=b/', { token })).json();
    expect(listB.items).toEqual([]);
    const exported = await (
      await h.call('GET', '/api/key-value', { token, headers: { Accept: 'application/x-ndjson' } })
    ).text();
    expect(
      exported
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line).key),
    ).toEqual(['a/x', 'a/y']);
  });

  it('import with one forbidden key → 403 naming it, nothing written', async () => {
    const token = await h.tokenWith(['kv:write:a/*']);
    const before = await allEntries(h.core);
    const body = [
      JSON.stringify({ key: 'a/imported', value: 1 }),
      JSON.stringify({ key: 'b/imported', value: 2 }),
    ].join('\n');
    const res = await h.call('POST', '/api/key-value/import', {
      token,
      body,
      headers: { 'Content-Type': 'application/x-ndjson' },
    });
    const problem = await expectProblem(res, 403, 'FORBIDDEN');
    expect(problem.detail).toContain('kv:write:b/imported');
    expect(await allEntries(h.core)).toEqual(before);
  });

  it('records the client IP from X-Forwarded-For only with trustProxy', async () => {
    const trusting = await createHarness('memory', { app: { trustProxy: true } });
    try {
      const headers = { 'X-Forwarded-For': '203.0.113.9, 198.51.100.7' };
      expect((await trusting.call('GET', '/api', { headers })).status).toBe(200);
      const { items } = await trusting.core.tokens.list(SYSTEM_PRINCIPAL);
      expect(items[0]?.lastUsedIp).toBe('198.51.100.7');
    } finally {
      await trusting.close();
    }
    const fresh = await createHarness('memory');
    try {
      await fresh.call('GET', '/api', { headers: { 'X-Forwarded-For': '203.0.113.9' } });
      const { items } = await fresh.core.tokens.list(SYSTEM_PRINCIPAL);
      expect(items[0]?.lastUsedIp).toBeNull();
      expect(items[0]?.lastUsedAt).not.toBeNull();
    } finally {
      await fresh.close();
    }
  });
});
