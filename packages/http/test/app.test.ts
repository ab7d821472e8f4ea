/**
 * The app's cross-cutting behaviour: request ids, problems for unknown routes and internal
 * errors, health and status, the base path option.
 */
import type { Storage } from '@proserver/core';
import { createCore, createJsonLogger, ERROR_CODES } from '@proserver/core';
import { createMemoryStorage } from '@proserver/core/memory';
import { createApp, ERROR_STATUS, PROSERVER_VERSION } from '@proserver/http';
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, expectProblem, type Harness } from './support/harness.js';

const harnesses: Harness[] = [];
async function harness(...args: Parameters<typeof createHarness>): Promise<Harness> {
  const h = await createHarness(...args);
  harnesses.push(h);
  return h;
}
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.close()));
});

/** A storage whose ping or one key-value method throws an error full of internals. */
function failing(part: 'ping' | 'get' | 'list', message: string): (storage: Storage) => Storage {
  return (storage) => {
    if (part === 'ping')
      return { ...storage, kv: storage.kv, auth: storage.auth, ping: () => Promise.reject(new Error(message)) };
    const kv = new Proxy(storage.kv, {
      get(target, property, receiver) {
        if (property === part) return () => Promise.reject(new Error(message));
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    return { ...storage, kv, auth: storage.auth };
  };
}

describe('request ids', () => {
  it('echoes a sane X-Request-Id on success, errors and 404s', async () => {
    const h = await harness('memory');
    for (const [path, status] of [
      ['/api/ping', 200],
      ['/api/key-value/none', 404],
      ['/api/nope', 404],
      ['/nope', 404],
    ] as const) {
      const res = await h.call('GET', path, { headers: { 'X-Request-Id': 'build-42.step:7_a' } });
      expect(res.status).toBe(status);
      expect(res.headers.get('x-request-id')).toBe('build-42.step:7_a');
    }
    const problem = await expectProblem(
      await h.call('GET', '/api/key-value/none', { headers: { 'X-Request-Id': 'abc-1' } }),
      404,
      'NOT_FOUND',
    );
    expect(problem.requestId).toBe('abc-1');
  });

  it('generates one when absent or not sane', async () => {
    const h = await harness('memory');
    const ids = new Set<string>();
    for (const sent of [undefined, 'has space', 'x'.repeat(129), 'semi;colon', '']) {
      const res = await h.call('GET', '/api/ping', { headers: sent === undefined ? {} : { 'X-Request-Id': sent } });
      const id = res.headers.get('x-request-id') ?? '';
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      ids.add(id);
    }
    expect(ids.size).toBe(5);
    const max = 'x'.repeat(128);
    expect((await h.call('GET', '/api/ping', { headers: { 'X-Request-Id': max } })).headers.get('x-request-id')).toBe(
      max,
    );
  });
});

describe('errors', () => {
  it('unknown routes → 404 NOT_FOUND problem', async () => {
    const h = await harness('memory');
    await expectProblem(await h.call('GET', '/api/nope'), 404, 'NOT_FOUND');
    await expectProblem(await h.call('POST', '/api/key-value-x', { json: {} }), 404, 'NOT_FOUND');
    await expectProblem(await h.call('GET', '/elsewhere', { token: null }), 404, 'NOT_FOUND');
    await expectProblem(await h.call('GET', '/api/application-tokens/a/b/c'), 404, 'NOT_FOUND');
  });

  it('routes under the base path other than ping need a token, unknown ones too', async () => {
    const h = await harness('memory');
    await expectProblem(await h.call('GET', '/api/nope', { token: null }), 401, 'UNAUTHENTICATED');
    await expectProblem(await h.call('GET', '/api', { token: null }), 401, 'UNAUTHENTICATED');
  });

  it('an internal error → 500 INTERNAL without the message, logged with the request id', async () => {
    const lines: string[] = [];
    const h = await harness('memory', {
      storage: failing('get', 'connect ECONNREFUSED 10.9.8.7:5432 password=hunter2'),
      app: { logger: createJsonLogger('error', (line) => lines.push(line)) },
    });
    const res = await h.call('GET', '/api/key-value/some/key', { headers: { 'X-Request-Id': 'trace-500' } });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toMatch(/hunter2|ECONNREFUSED|10\.9\.8\.7|at /);
    const body = JSON.parse(text);
    expect(body).toMatchObject({
      code: 'INTERNAL',
      status: 500,
      requestId: 'trace-500',
      type: 'urn:proserver:error:INTERNAL',
    });
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const logged = lines.map((line) => JSON.parse(line)).find((line) => line.msg === 'request failed');
    expect(logged).toMatchObject({ requestId: 'trace-500', error: expect.stringContaining('ECONNREFUSED') });
  });

  it('an export whose storage fails before the first entry → 500 problem, not a broken stream', async () => {
    const h = await harness('memory', { storage: failing('list', 'relation "kv_entries" does not exist') });
    const res = await h.call('GET', '/api/key-value', { headers: { Accept: 'application/x-ndjson' } });
    const body = await expectProblem(res, 500, 'INTERNAL');
    expect(body.detail).not.toContain('kv_entries');
  });

  it('maps every error code to a 4xx or 5xx status', () => {
    for (const code of ERROR_CODES) {
      expect(ERROR_STATUS[code]).toBeGreaterThanOrEqual(400);
      expect(ERROR_STATUS[code]).toBeLessThan(600);
    }
    expect(ERROR_STATUS.PRECONDITION_FAILED).toBe(412);
    expect(ERROR_STATUS.UNSUPPORTED_MEDIA_TYPE).toBe(415);
  });
});

describe('health and status', () => {
  it('GET /health → 200 ok without auth; 503 down when storage fails', async () => {
    const h = await harness('memory');
    const res = await h.call('GET', '/health', { token: null });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', version: PROSERVER_VERSION });
    const down = await harness('memory', { storage: failing('ping', 'db gone') });
    const bad = await down.call('GET', '/health', { token: null });
    expect(bad.status).toBe(503);
    expect(await bad.json()).toEqual({ status: 'down', version: PROSERVER_VERSION });
    await expectProblem(await h.call('POST', '/health', { token: null }), 405, 'METHOD_NOT_ALLOWED');
  });

  it('GET /api/ping → pong without auth', async () => {
    const h = await harness('memory');
    const res = await h.call('GET', '/api/ping', { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe('pong');
  });

  it('GET /api → status, version, uptime and storage with any valid token', async () => {
    const h = await harness('memory');
    h.clock.advance(90_500);
    const token = await h.tokenWith(['kv:read:nothing/*']);
    const res = await h.call('GET', '/api', { token });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ status: 'ok', version: PROSERVER_VERSION, uptimeSeconds: 90 });
    expect(body.storage).toMatchObject({ kind: 'memory', ok: true });
    expect(typeof body.storage.latencyMs).toBe('number');
  });

  it('GET /api reports storage down with 503', async () => {
    const h = await harness('memory', { storage: failing('ping', 'db gone') });
    const res = await h.call('GET', '/api');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'down', storage: { kind: 'memory', ok: false } });
  });
});

describe('options', () => {
  it('serves under a custom base path', async () => {
    const h = await harness('memory', { app: { basePath: '/sfp/api/' } });
    expect(await (await h.call('GET', '/sfp/api/ping')).text()).toBe('pong');
    const created = await h.call('POST', '/sfp/api/key-value', { json: { key: 'p/a', value: 1 } });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/sfp/api/key-value/p/a');
    expect((await h.call('GET', '/sfp/api/key-value/p/a')).status).toBe(200);
    await expectProblem(await h.call('GET', '/api/ping'), 404, 'NOT_FOUND');
  });

  it('refuses bad options at construction', () => {
    const core = createCore({ storage: createMemoryStorage(), kv: { sweepIntervalMs: 0 } });
    expect(() => createApp(core, { basePath: 'api' })).toThrow(/basePath/);
    expect(() => createApp(core, { maxBodyBytes: 0 })).toThrow(/maxBodyBytes/);
  });

  it('enforces a smaller maxBodyBytes', async () => {
    const h = await harness('memory', { app: { maxBodyBytes: 100 } });
    const res = await h.call('POST', '/api/key-value', { json: { key: 'small/a', value: 'x'.repeat(100) } });
    await expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
    await expect(h.core.kv.get('small/a')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
