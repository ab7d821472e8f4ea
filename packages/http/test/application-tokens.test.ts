import { SYSTEM_PRINCIPAL } from '@proserver/core';
import { testBackendNames } from '@proserver/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, expectProblem, type Harness } from './support/harness.js';

describe.each(testBackendNames())('application-token routes on %s', (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(backend);
  });
  afterAll(() => h.close());

  const tokenCount = async () => (await h.core.tokens.list(SYSTEM_PRINCIPAL, { limit: 1000 })).items.length;

  const create = async (scopes: string[] = ['kv:read'], name = 'ci') => {
    const res = await h.call('POST', '/api/application-tokens', { json: { name, expiresInDays: 30, scopes } });
    expect(res.status).toBe(201);
    return { res, body: await res.json() };
  };

  it('creates a token: 201, secret once, no-store, Location; the secret works', async () => {
    const { res, body } = await create(['kv:read']);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('location')).toBe(`/api/application-tokens/${body.token.id}`);
    expect(body.secret).toMatch(/^prs_[0-9A-Za-z]{36}$/);
    expect(body.token).toMatchObject({
      name: 'ci',
      scopes: ['kv:read'],
      status: 'active',
      last4: body.secret.slice(-4),
    });
    expect(body.token.expiresAt).toBe('2026-03-31T12:00:00.000Z');
    expect(JSON.stringify(body.token)).not.toContain(body.secret);
    await h.core.kv.upsert({ key: 'tok/a', value: 1 });
    expect((await h.call('GET', '/api/key-value/tok/a', { token: body.secret })).status).toBe(200);
    await expectProblem(await h.call('DELETE', '/api/key-value/tok/a', { token: body.secret }), 403, 'FORBIDDEN');
  });

  it('lists with cursor pagination and gets one token, never a secret', async () => {
    const { body: created } = await create(['kv:read'], 'listed');
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query = new URLSearchParams({ limit: '1', ...(cursor ? { cursor } : {}) });
      const res = await h.call('GET', `/api/application-tokens?${query}`);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).not.toContain(created.secret);
      const page = JSON.parse(text) as { items: { id: string }[]; nextCursor: string | null };
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 100);
    expect(seen).toContain(created.token.id);
    expect(seen.length).toBe(await tokenCount());

    const one = await h.call('GET', `/api/application-tokens/${created.token.id}`);
    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({ id: created.token.id, name: 'listed' });
    await expectProblem(await h.call('GET', '/api/application-tokens/tok_nope'), 404, 'NOT_FOUND');
  });

  it('revokes with DELETE: 200 with status revoked, and the token stops working at once', async () => {
    const { body } = await create();
    expect((await h.call('GET', '/api', { token: body.secret })).status).toBe(200);
    const res = await h.call('DELETE', `/api/application-tokens/${body.token.id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: body.token.id, status: 'revoked' });
    await expectProblem(await h.call('GET', '/api', { token: body.secret }), 401, 'UNAUTHENTICATED');
  });

  it('rotates: new secret with no-store; the old one works during the grace period only', async () => {
    const { body } = await create();
    const res = await h.call('POST', `/api/application-tokens/${body.token.id}/rotate`, { json: { graceSeconds: 60 } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const rotated = await res.json();
    expect(rotated.token.id).toBe(body.token.id);
    expect(rotated.secret).not.toBe(body.secret);
    expect((await h.call('GET', '/api', { token: rotated.secret })).status).toBe(200);
    expect((await h.call('GET', '/api', { token: body.secret })).status).toBe(200);
    h.clock.advance(61_000);
    await expectProblem(await h.call('GET', '/api', { token: body.secret }), 401, 'UNAUTHENTICATED');
    expect((await h.call('GET', '/api', { token: rotated.secret })).status).toBe(200);
  });

  it('bad bodies → 400 and no token is created', async () => {
    const before = await tokenCount();
    const cases: unknown[] = [
      { name: 'x', expiresInDays: 30 },
      { name: '', expiresInDays: 30, scopes: ['kv:read'] },
      { name: 'x', expiresInDays: '30', scopes: ['kv:read'] },
      { name: 'x', expiresInDays: 0, scopes: ['kv:read'] },
      { name: 'x', expiresInDays: 100000, scopes: ['kv:read'] },
      { name: 'x', expiresInDays: 30, scopes: ['kv:explode'] },
      { name: 'x', expiresInDays: 30, scopes: [] },
      { name: 'x', expiresInDays: 30, scopes: ['kv:read'], admin: true },
    ];
    for (const json of cases) {
      await expectProblem(await h.call('POST', '/api/application-tokens', { json }), 400, 'VALIDATION_FAILED');
    }
    const malformed = await h.call('POST', '/api/application-tokens', {
      body: '{"name":',
      headers: { 'Content-Type': 'application/json' },
    });
    await expectProblem(malformed, 400, 'MALFORMED_JSON');
    const text = await h.call('POST', '/api/application-tokens', {
      body: 'name=x',
      headers: { 'Content-Type': 'text/plain' },
    });
    await expectProblem(text, 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(await tokenCount()).toBe(before);
  });

  it('bad rotate bodies and bad list queries → 400; the secret is unchanged', async () => {
    const { body } = await create();
    for (const json of [{ graceSeconds: -1 }, { graceSeconds: 'soon' }, { graceSeconds: 1, extra: 1 }]) {
      await expectProblem(
        await h.call('POST', `/api/application-tokens/${body.token.id}/rotate`, { json }),
        400,
        'VALIDATION_FAILED',
      );
    }
    expect((await h.call('GET', '/api', { token: body.secret })).status).toBe(200);
    expect((await h.core.tokens.get(SYSTEM_PRINCIPAL, body.token.id)).rotatedAt).toBeNull();
    for (const query of ['limit=0', 'limit=x', 'limit=5000', 'cursor=%%%', 'sort=name']) {
      await expectProblem(await h.call('GET', `/api/application-tokens?${query}`), 400, 'VALIDATION_FAILED');
    }
  });

  it('needs tokens:write on every route; a narrower token cannot mint a wider one', async () => {
    const { body: target } = await create();
    const reader = await h.tokenWith(['kv:read']);
    const before = await tokenCount();
    const attempts: [string, string, unknown?][] = [
      ['POST', '/api/application-tokens', { name: 'x', expiresInDays: 1, scopes: ['kv:read'] }],
      ['GET', '/api/application-tokens'],
      ['GET', `/api/application-tokens/${target.token.id}`],
      ['DELETE', `/api/application-tokens/${target.token.id}`],
      ['POST', `/api/application-tokens/${target.token.id}/rotate`, { graceSeconds: 0 }],
    ];
    for (const [method, path, json] of attempts) {
      const problem = await expectProblem(await h.call(method, path, { token: reader, json }), 403, 'FORBIDDEN');
      expect(problem.detail).toContain('tokens:write');
    }
    const minter = await h.tokenWith(['tokens:write', 'kv:read']);
    const wider = await h.call('POST', '/api/application-tokens', {
      token: minter,
      json: { name: 'wider', expiresInDays: 1, scopes: ['*'] },
    });
    const refused = await expectProblem(wider, 403, 'FORBIDDEN');
    expect(refused.detail).toContain('*');
    expect(await tokenCount()).toBe(before + 1);
    expect((await h.call('GET', '/api', { token: target.secret })).status).toBe(200);
  });

  it('405s other methods with Allow', async () => {
    const res = await h.call('PUT', '/api/application-tokens', { json: {} });
    await expectProblem(res, 405, 'METHOD_NOT_ALLOWED');
    expect(res.headers.get('allow')).toBe('GET, HEAD, POST');
    const rotate = await h.call('GET', '/api/application-tokens/tok_x/rotate');
    await expectProblem(rotate, 405, 'METHOD_NOT_ALLOWED');
    expect(rotate.headers.get('allow')).toBe('POST');
  });
});
